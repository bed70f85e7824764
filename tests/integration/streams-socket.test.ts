import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { attachStreamSockets } from '#app/features/streams/socket.server.ts'

/** The create answer's websocket_url, served on a real HTTP server: the same feed as SSE, credentials checked before the upgrade. */

let app: TestApp
let a: TestTenant
let b: TestTenant
let server: http.Server
let base: string

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  server = http.createServer((_, res) => res.end())
  attachStreamSockets(server)
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((ok) => server.close(ok))
  await app.close()
})

const T0 = Date.UTC(2026, 0, 5, 12)

function refusal(url: string, headers: Record<string, string>) {
  return new Promise<number>((ok, fail) => {
    const ws = new WebSocket(url, { headers })
    ws.on('unexpected-response', (_, res) => ok(res.statusCode ?? 0))
    ws.on('open', () => fail(new Error('opened')))
    ws.on('error', () => {})
  })
}

describe('stream WebSocket', () => {
  it('sends the snapshot, then the update of each batch', async () => {
    const r = await json(app.fetch('/api/v1/stream/create', { method: 'POST', headers: a.data_scientist.auth, json: { stream_name: 'ws', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count', 'max'] } } }))
    expect(r.status).toBe(201)
    const url = r.body.websocket_url.replace('ws://hotdash.test', base)
    const ws = new WebSocket(url, { headers: a.viewer.auth })
    const got: any[] = []
    const updated = new Promise<void>((ok) => ws.on('message', (d) => {
      const m = JSON.parse(String(d))
      got.push(m)
      if (m.type === 'update' && m.data.metrics.events_processed === 2) ok()
    }))
    await new Promise((ok) => ws.on('open', ok))
    await new Promise((ok) => setTimeout(ok, 300))
    const s = await json(app.fetch(`/api/v1/stream/${r.body.stream_id}/events`, { method: 'POST', headers: a.data_scientist.auth, json: { events: [{ timestamp: T0, value: 4 }, { timestamp: T0 + 5, value: 9 }] } }))
    expect(s.status).toBe(200)
    await updated
    ws.close()
    expect(got[0].type).toBe('snapshot')
    expect(got[0].data.windows).toEqual([])
    expect(got.at(-1).data.windows[0].values).toEqual({ count: 2, max: 9 })

    // refusals are HTTP answers before the upgrade
    expect(await refusal(url, {})).toBe(401)
    expect(await refusal(url, { authorization: 'Bearer nonsense' })).toBe(401)
    expect(await refusal(url, b.admin.auth)).toBe(404)
    expect(await refusal(`${base}/api/v1/stream/stream_0000000000000000/ws`, a.viewer.auth)).toBe(404)
  })
})
