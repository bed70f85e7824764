/*
  The reference for bench/boot.ts: the web server as it was before decision 005, kept to be measured beside the built
  one. tsx runs this TypeScript at run time; it imports the app's source (boot, env, middleware) AND the React Router
  build, so every app module it touches loads twice, glued by globalThis singletons. Not used by the app.
*/
import path from 'node:path'
import { createRequestHandler } from '@react-router/express'
import express from 'express'
import type { ServerBuild } from 'react-router'
import { bootApp } from '../app/boot.server.ts'
import { getEnv } from '../app/env.server.ts'
import { stampClientAddress } from '../app/http/client-address.server.ts'
import { applyHttpTimeouts } from '../app/http/server-timeouts.server.ts'

const started = Date.now()
const env = getEnv()
const root = path.resolve(import.meta.dirname, '..')
const app = express()
app.disable('x-powered-by')
// The socket's address, for the brute-force guard; a client's own X-HD-Client-Address is overwritten.
app.use(stampClientAddress)

let getBuild: () => Promise<ServerBuild>
if (env.NODE_ENV === 'production') {
  app.use('/assets', express.static(path.join(root, 'build/client/assets'), { immutable: true, maxAge: '1y' }))
  app.use(express.static(path.join(root, 'build/client'), { maxAge: '1h' }))
  const build = (await import(path.join(root, 'build/server/index.js'))) as ServerBuild
  getBuild = async () => build
} else {
  const vite = await import('vite').then((v) => v.createServer({ root, server: { middlewareMode: true } }))
  app.use(vite.middlewares)
  getBuild = () => vite.ssrLoadModule('virtual:react-router/server-build') as Promise<ServerBuild>
}

const boot = await bootApp()
if (env.NODE_ENV === 'production') {
  // One handler for the process: building it per request cost ~2/3 of the throughput (measured on /healthz: 508 → 1390 req/s).
  app.use(createRequestHandler({ build: await getBuild(), mode: env.NODE_ENV }))
} else {
  // In dev the build changes as files change, so the handler follows it.
  app.use(async (req, res, next) => {
    try {
      return createRequestHandler({ build: await getBuild(), mode: env.NODE_ENV })(req, res, next)
    } catch (e) {
      next(e)
    }
  })
}

const server = app.listen(env.PORT, env.HOST, () => {
  const url = `http://localhost:${env.PORT}`
  console.log(`\n🔥 Hot Dash on ${url}  (${boot.db.engine}, ready in ${Date.now() - started} ms)`)
  if (boot.logins.length) {
    console.log('\nDemo logins (password for all: ' + boot.logins[0].password + ')')
    for (const l of boot.logins) console.log(`  ${l.username.padEnd(24)} ${l.role.padEnd(15)} ${l.tenant}`)
    console.log('')
  }
})
applyHttpTimeouts(server)

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.close()
    // Let running jobs wind down before the database closes under them.
    void import('../app/jobs/registry.server.ts')
      .then((m) => m.stopJobs({ timeoutMs: 10_000 }))
      .then(() => import('../app/db/index.server.ts'))
      .then((m) => m.closeDb())
      .finally(() => process.exit(0))
  })
}
