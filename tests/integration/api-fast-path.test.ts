import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyticsAliases } from '#app/api-aliases.ts'
import { generateOpsData, insertOpsData } from '#app/demo/ops.server.ts'
import { seededRandom } from '#app/demo/random.ts'
import { refreshOpsViews } from '#app/features/ops/refresh.server.ts'
import { apiFastPath } from '#app/http/api-fast-path.server.ts'
import { resetAllRateLimits } from '#app/http/rate-limit.server.ts'
import { routePath, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/* The production server's direct path for API GETs (decision 019), on a real HTTP server over the real route modules:
   the same answers as React Router's handler gives (tests/support/app.ts), and everything else left to it. */

const ROUTES_DIR = path.resolve(import.meta.dirname, '../../app/routes')
let app: TestApp
let a: TestTenant
let base: string
let server: import('node:http').Server

beforeAll(async () => {
  app = await setupTestApp()
  a = await app.createTenant()
  await insertOpsData(app.db, a.id, generateOpsData(seededRandom(3), new Date(), { days: 9, profile: { baseRate: 3 } }))
  await refreshOpsViews(app.db)
  // the route manifest as the build has it: flat api.* modules under root, plus the spec's aliases
  const files = fs.readdirSync(ROUTES_DIR).filter((f) => /^api\..+\.ts$/.test(f))
  const entries = await Promise.all([
    ...files.map(async (f) => ({ id: `routes/${f}`, parentId: 'root', path: routePath(f), module: await import(path.join(ROUTES_DIR, f)) })),
    ...analyticsAliases.map(async (x) => ({ id: `alias/${x.file}`, parentId: 'root', path: x.path, module: await import(path.join(ROUTES_DIR, x.file)) })),
  ])
  const web = express()
  web.use(apiFastPath({ routes: Object.fromEntries(entries.map((e) => [e.id, e])) } as never))
  web.use((_req, res) => void res.status(599).send('left to React Router'))
  await new Promise<void>((resolve) => (server = web.listen(0, '127.0.0.1', () => resolve())))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}, 120_000)
afterAll(async () => {
  await new Promise((r) => server?.close(r))
  await app?.close()
})

describe('API fast path', () => {
  it('answers a dashboard GET exactly as the route does through React Router: status, body, headers', async () => {
    resetAllRateLimits()
    const direct = await fetch(`${base}/api/v1/analytics/dashboard/trends?hours=12`, { headers: a.viewer.auth })
    const viaRouter = await app.fetch('/api/v1/analytics/dashboard/trends?hours=12', { headers: a.viewer.auth })
    expect(direct.status).toBe(200)
    expect(await direct.json()).toEqual(await viaRouter.json())
    for (const h of ['content-type', 'cache-control', 'vary', 'etag', 'x-api-version', 'ratelimit-limit']) {
      expect(direct.headers.get(h), h).toBe(viaRouter.headers.get(h))
    }
    expect(direct.headers.get('x-request-id')).toMatch(/^[\w-]{8,}$/)
  })

  it('HEAD has the headers and no body; If-None-Match is a 304; the alias path and params work', async () => {
    resetAllRateLimits()
    const head = await fetch(`${base}/api/analytics/dashboard/summary`, { method: 'HEAD', headers: a.viewer.auth })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const etag = head.headers.get('etag')!
    const cond = await fetch(`${base}/api/v1/analytics/dashboard/summary`, { headers: { ...a.viewer.auth, 'if-none-match': etag } })
    expect(cond.status).toBe(304)
    // matched as React Router matches: case-insensitive, a trailing slash allowed, path parameters
    expect((await fetch(`${base}/api/v1/Analytics/dashboard/Summary/`, { headers: a.viewer.auth })).status).toBe(200)
    const user = await fetch(`${base}/api/v1/users/${a.viewer.userId}`, { headers: a.admin.auth })
    const userViaRouter = await app.fetch(`/api/v1/users/${a.viewer.userId}`, { headers: a.admin.auth })
    expect(user.status).toBe(userViaRouter.status)
    expect(await user.text()).toBe(await userViaRouter.text())
  })

  it('errors are the JSON envelope: 401, 400 naming the field', async () => {
    resetAllRateLimits()
    const anon = await fetch(`${base}/api/v1/analytics/dashboard/summary`)
    expect(anon.status).toBe(401)
    expect((await anon.json()).error.code).toBe('AUTH_REQUIRED')
    const bad = await fetch(`${base}/api/v1/analytics/dashboard/trends?hours=abc`, { headers: a.viewer.auth })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.details.fields[0].field).toBe('hours')
  })

  it('leaves other methods, pages and routes not made by api() (the /api/ 404 splat) to React Router', async () => {
    expect((await fetch(`${base}/api/v1/analytics/dashboard/summary`, { method: 'POST', headers: a.viewer.auth })).status).toBe(599)
    expect((await fetch(`${base}/api/v1/nope`, { headers: a.viewer.auth })).status).toBe(599)
    expect((await fetch(`${base}/analytics`)).status).toBe(599)
  })
})
