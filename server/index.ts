/*
  The web server. Production (`npm start`): this file is built to build/node/index.js (scripts/build-server.ts) and
  runs on plain node; it holds express and nothing of the app. The app — every route, the database, the jobs — comes
  from the React Router build, whose SSR entry (app/entry.server.tsx) also carries the process hooks
  (app/process.server.ts): one module graph, each app module loaded once. Dev (`npm run dev`, through tsx): the same,
  with Vite's SSR graph in place of the build. Decision 005.
*/
import path from 'node:path'
import { createRequestHandler } from '@react-router/express'
import express from 'express'
import type { ServerBuild } from 'react-router'
import type * as AppProcess from '../app/process.server.ts'

const started = Date.now()
const production = process.env.NODE_ENV === 'production'
// From source: server/ → the repository; built: build/node/ → the repository.
const root = path.resolve(import.meta.dirname, import.meta.filename.endsWith('.ts') ? '..' : '../..')
const app = express()
app.disable('x-powered-by')

let getBuild: () => Promise<ServerBuild>
let vite: import('vite').ViteDevServer | undefined
if (production) {
  app.use('/assets', express.static(path.join(root, 'build/client/assets'), { immutable: true, maxAge: '1y' }))
  const files = express.static(path.join(root, 'build/client'), { maxAge: '1h' })
  // No file lives under /api/: skip the stat every API request would cost (decision 019).
  app.use((req, res, next) => (req.path.startsWith('/api/') ? next() : files(req, res, next)))
  const build = (await import(path.join(root, 'build/server/index.js'))) as ServerBuild
  getBuild = async () => build
} else {
  const dev = await import('vite').then((v) => v.createServer({ root, server: { middlewareMode: true } }))
  vite = dev
  app.use(dev.middlewares)
  getBuild = () => dev.ssrLoadModule('virtual:react-router/server-build') as Promise<ServerBuild>
}

// The app's side of the process: from the build's SSR entry; in dev the same module in Vite's graph (a module Vite
// re-runs after an edit keeps the process's database, pg-boss and pools on globalThis: decision 005).
const hooks = (production ? (await getBuild()).entry.module : await vite!.ssrLoadModule('/app/process.server.ts')) as unknown as typeof AppProcess
const env = hooks.getEnv()
// The socket's address, for the brute-force guard; a client's own X-HD-Client-Address is overwritten.
app.use(hooks.stampClientAddress)
const boot = await hooks.bootApp()
if (production) {
  // One handler for the process: building it per request cost ~2/3 of the throughput (measured on /healthz: 508 → 1390 req/s).
  const build = await getBuild()
  // GET/HEAD to the API's resource routes skip React Router's request handler (same route manifest; decision 019).
  if (process.env.API_FAST_PATH !== 'off') app.use(hooks.apiFastPath(build))
  app.use(createRequestHandler({ build, mode: env.NODE_ENV }))
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
hooks.applyHttpTimeouts(server)
// The streams' websocket_url (the one upgrade this server answers).
hooks.attachStreamSockets(server)

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.close()
    // Let running jobs wind down before the database closes under them.
    void hooks.shutdownApp({ timeoutMs: 10_000 }).finally(() => process.exit(0))
  })
}
