import crypto from 'node:crypto'
import http from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import { installDb } from '#app/db/index.server.ts'
import { resetEnvCache } from '#app/env.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { MAX_BODY_BYTES } from '#app/http/body.server.ts'
import { CLIENT_ADDRESS_HEADER, clientIp, stampClientAddress } from '#app/http/client-address.server.ts'
import { resetAllRateLimits } from '#app/http/rate-limit.server.ts'
import { createTestDatabase } from '#tests/support/db.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/* Issue 16, items 3 (body limits while streaming), 4 (which client address to believe), 8 (no leaks in errors). */

let app: TestApp
let t: TestTenant

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
})
afterAll(() => app.close())

/** A body that never declares its length (sent chunked), `total` bytes of `fill`; `pulled()` is how much was read. */
function chunkedBody(total: number, fill = 'a', chunk = 64 * 1024) {
  let sent = 0
  const piece = new TextEncoder().encode(fill.repeat(Math.ceil(chunk / fill.length)).slice(0, chunk))
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close()
      c.enqueue(piece)
      sent += piece.byteLength
    },
  })
  return { stream, pulled: () => sent }
}

const post = (path: string, body: ReadableStream, headers: Record<string, string>) =>
  app.fetch(path, { method: 'POST', body, headers, duplex: 'half' } as RequestInit)

describe('request bodies are counted while they arrive (413 past the limit)', () => {
  const tooBig = 64 * MAX_BODY_BYTES // 128 MiB: the limit must stop it long before the end

  it('a chunked JSON body is cut off at the limit, not read whole', async () => {
    const b = chunkedBody(tooBig)
    const r = await json(post('/api/v1/template/', b.stream, { ...t.admin.auth, 'content-type': 'application/json' }))
    expect(r.status).toBe(413)
    expect(r.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: MAX_BODY_BYTES } })
    expect(r.headers.get('connection')).toBe('close')
    expect(b.pulled()).toBeLessThan(MAX_BODY_BYTES + 4 * 64 * 1024)
  })

  it('the unauthenticated form login, chunked, is a 413 and reads no further', async () => {
    const b = chunkedBody(tooBig, 'username=a&password=')
    const r = await json(post('/api/v1/login/access-token', b.stream, { 'content-type': 'application/x-www-form-urlencoded' }))
    expect(r.status).toBe(413)
    expect(b.pulled()).toBeLessThan(MAX_BODY_BYTES + 4 * 64 * 1024)
  })

  it('the browser login page too', async () => {
    const { action } = await import('#app/routes/login.tsx')
    const b = chunkedBody(tooBig, 'username=a&password=')
    const request = new Request('http://hotdash.test/login', { method: 'POST', body: b.stream, duplex: 'half', headers: { 'content-type': 'application/x-www-form-urlencoded' } } as RequestInit)
    const r = (await action({ request, params: {}, context: {} } as never)) as { init: ResponseInit | null; data: { message: string } }
    expect(r.init?.status).toBe(413)
    expect(b.pulled()).toBeLessThan(MAX_BODY_BYTES + 4 * 64 * 1024)
  })

  it('a declared Content-Length past the limit is refused before reading', async () => {
    const b = chunkedBody(tooBig)
    const r = await post('/api/v1/template/', b.stream, { ...t.admin.auth, 'content-type': 'application/json', 'content-length': String(tooBig) })
    expect(r.status).toBe(413)
    expect(b.pulled()).toBeLessThanOrEqual(64 * 1024)
  })

  it('a raw body (the handler streams it) stops at the route limit with 413', async () => {
    let handlerRead = 0
    const route = api({
      POST: {
        summary: 'test: reads its raw body',
        auth: 'none',
        bodyType: 'raw',
        maxBodyBytes: 100_000,
        handler: async ({ request }) => {
          for await (const c of request.body as unknown as AsyncIterable<Uint8Array>) handlerRead += c.byteLength
          return { read: handlerRead }
        },
      },
    })
    const b = chunkedBody(tooBig)
    const request = new Request('http://hotdash.test/raw', { method: 'POST', body: b.stream, duplex: 'half' } as RequestInit)
    const r = await json(route.action({ request, params: {} }))
    expect(r.status).toBe(413)
    expect(handlerRead).toBeLessThanOrEqual(100_000)
    handlerRead = 0
    const small = chunkedBody(50_000)
    const ok = await json(route.action({ request: new Request('http://hotdash.test/raw', { method: 'POST', body: small.stream, duplex: 'half' } as RequestInit), params: {} }))
    expect(ok).toMatchObject({ status: 200, body: { read: 64 * 1024 } })
  })

  it('bodies within the limit still work', async () => {
    const r = await app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: t.viewer.username, password: t.viewer.password } })
    expect(r.status).toBe(200)
  })
})

describe('the brute-force guard keys on an address the client cannot choose', () => {
  const env = { ...process.env }
  afterEach(() => {
    process.env = { ...env }
    resetEnvCache()
    resetAllRateLimits()
  })
  const badLogin = (username: string, headers: Record<string, string>) =>
    app.fetch('/api/v1/login/access-token', { method: 'POST', headers, form: { username, password: 'wrong-password' } })

  it('off Fly, rotating Fly-Client-IP / X-Forwarded-For does not buy more guesses', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const spoof = `203.0.113.${i + 1}`
      statuses.push((await badLogin(t.operator.username, { 'fly-client-ip': spoof, 'x-forwarded-for': spoof, 'x-real-ip': spoof })).status)
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401))
    expect(statuses.slice(10)).toEqual([429, 429])
  })

  it('on Fly (FLY_APP_NAME set), Fly-Client-IP is the address', async () => {
    process.env.FLY_APP_NAME = 'hot-dash'
    resetEnvCache()
    for (let i = 0; i < 10; i++) expect((await badLogin(t.data_scientist.username, { 'fly-client-ip': '198.51.100.7' })).status).toBe(401)
    expect((await badLogin(t.data_scientist.username, { 'fly-client-ip': '198.51.100.7' })).status).toBe(429)
    // another client (as Fly's edge reports it) has its own budget
    expect((await badLogin(t.data_scientist.username, { 'fly-client-ip': '198.51.100.8' })).status).toBe(401)
  })

  it('behind TRUST_PROXY_HOPS proxies, X-Forwarded-For is read from the right', () => {
    process.env.TRUST_PROXY_HOPS = '1'
    resetEnvCache()
    const r = (xff: string) => clientIp(new Request('http://x/', { headers: { 'x-forwarded-for': xff, [CLIENT_ADDRESS_HEADER]: '10.0.0.1' } }))
    expect(r('6.6.6.6, 192.0.2.10')).toBe('192.0.2.10') // the client wrote 6.6.6.6; our proxy appended what it saw
    process.env.TRUST_PROXY_HOPS = '2'
    resetEnvCache()
    expect(r('6.6.6.6, 192.0.2.10, 10.1.1.1')).toBe('192.0.2.10')
  })

  it('the server stamps the socket address over whatever the client sent', async () => {
    const server = http.createServer((req, res) =>
      stampClientAddress(req, res, () => res.end(clientIp(new Request('http://x/', { headers: req.headers as Record<string, string> })))),
    )
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    const seen = await fetch(`http://127.0.0.1:${port}/`, { headers: { [CLIENT_ADDRESS_HEADER]: '6.6.6.6', 'fly-client-ip': '6.6.6.6', 'x-forwarded-for': '6.6.6.6' } }).then((r) => r.text())
    server.close()
    expect(seen).toBe('127.0.0.1')
  })
})

describe('error answers do not leak', () => {
  afterEach(() => {
    delete process.env.LOG_ERRORS
    installDb(app.db)
  })

  it('a unique violation names the field, without the other row key values; the constraint goes to the log', async () => {
    process.env.LOG_ERRORS = 'true'
    const logged: string[] = []
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk))
      return true
    })
    const body = { tenant_id: t.id, email: `dup-${crypto.randomBytes(3).toString('hex')}@example.com`, username: t.viewer.username, password: 'Password123!' }
    const r = await json(app.fetch('/api/v1/users/create-user', { method: 'POST', headers: t.admin.auth, json: body }))
    spy.mockRestore()
    expect(r.status).toBe(409)
    expect(r.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'username', fields: [{ field: 'username' }] } })
    const text = JSON.stringify(r.body)
    expect(text).not.toContain(t.id)
    expect(text).not.toContain(t.viewer.username)
    expect(text).not.toMatch(/Key \(|constraint|_key\b/)
    const line = logged.map((l) => JSON.parse(l)).find((l) => l.sqlstate === '23505')
    // Under RLS Postgres itself leaves the key values out of the detail; the constraint is logged either way.
    expect(line).toMatchObject({ level: 'warn', constraint: expect.stringContaining('username') })
  })

  it('the health check answers 503 without the database error text', async () => {
    // A real database of this run's engine, closed under the app: its driver's own error text.
    const { db: broken, close } = await createTestDatabase()
    await close()
    installDb(broken)
    let raw = ''
    await broken.query('select 1').catch((e: Error) => (raw = e.message))
    expect(raw).not.toBe('')
    const r = await json(app.fetch('/api/v1/utils/health-check'))
    expect(r.status).toBe(503)
    expect(r.body.error).toEqual({ code: 'DATABASE_ERROR', message: 'Database is not answering', details: {} })
    expect(JSON.stringify(r.body)).not.toContain(raw)
  })
})

describe('unauthenticated SQL runs as anon (issue 16, item 5)', () => {
  it("a public route's database is anon, not the table owner", async () => {
    const route = api({
      GET: {
        summary: 'test: who am I',
        auth: 'none',
        handler: async ({ db }) => (await db.query<{ who: string; role: string }>(`select current_user as who, auth.role() as role`)).rows[0],
      },
    })
    const r = await json(route.loader({ request: new Request('http://hotdash.test/who'), params: {} }))
    expect(r.body).toEqual({ who: 'anon', role: 'anon' })
  })

  it('anon reads no table, in any schema', async () => {
    const { rows: tables } = await app.db.query<{ name: string }>(
      `select format('%I.%I', schemaname, tablename) as name from pg_tables
        where schemaname in ('public', 'app', 'auth', 'analytics', 'analytics_private', 'supabase_migrations', 'bronze', 'silver', 'gold', 'pgboss')`,
    )
    expect(tables.length).toBeGreaterThan(20)
    const readable: string[] = []
    for (const { name } of tables) {
      const n = await asCaller(app.db, null, async (tx) => (await tx.query<{ n: number }>(`select count(*)::int as n from ${name}`)).rows[0].n).catch(
        (e: { code?: string }) => {
          if (e.code !== '42501') throw e
          return 0
        },
      )
      if (n > 0) readable.push(`${name}: ${n} rows`)
    }
    expect(readable).toEqual([])
  })

  it('anon may call the credential steps, but not the server-only functions', async () => {
    const call = (sql: string, params: unknown[] = []) => asCaller(app.db, null, (tx) => tx.query(sql, params)).then(() => 'ok', (e: { code?: string }) => e.code)
    expect(await call(`select * from app.login_identity('nobody')`)).toBe('ok')
    expect(await call(`select app.health()`)).toBe('ok')
    expect(await call(`select * from app.caller_context('{}'::jsonb, null)`)).toBe('42501')
    expect(await call(`select app.create_identity('x@example.com', 'h', '{}'::jsonb, '{}'::jsonb)`)).toBe('42501')
    expect(await call(`select app.set_password_hash($1, 'h')`, [t.viewer.userId])).toBe('42501')
  })

  it('login, refresh, logout, the API key exchange and the health check work as anon over HTTP', async () => {
    const login = await json(app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: t.admin.username, password: t.admin.password } }))
    expect(login.status).toBe(200)
    const refreshed = await json(app.fetch(`/api/v1/refresh?refresh_token=${login.body.refresh_token}`, { method: 'POST' }))
    expect(refreshed.status).toBe(200)
    expect((await app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${refreshed.body.access_token}` } })).status).toBe(200)
    expect((await app.fetch(`/api/v1/logout?refresh_token=${refreshed.body.refresh_token}`, { method: 'POST' })).status).toBe(200)
    expect((await app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${refreshed.body.access_token}` } })).status).toBe(401)
    const client = await json(app.fetch('/api/v1/auth/clients', { method: 'POST', headers: t.admin.auth, json: { name: 'anon-test', scopes: ['analytics.read'] } }))
    expect(client.status).toBe(201)
    const key = await json(app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: client.body.client_id, client_secret: client.body.client_secret } }))
    expect(key.status).toBe(201)
    expect((await app.fetch('/api/v1/analytics/dashboard/summary', { headers: { authorization: `Bearer ${key.body.api_key}` } })).status).toBe(200)
    expect((await json(app.fetch('/api/v1/utils/health-check'))).body).toMatchObject({ status: 'ok', database: { ok: true } })
  })
})
