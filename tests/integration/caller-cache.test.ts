import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openPostgres, type Db } from '#app/db/db.server.ts'
import { callerCache } from '#app/features/auth/auth.server.ts'
import { resetAllRateLimits } from '#app/http/rate-limit.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/* The per-process caller cache (decision 070): a request's identity checks answered from memory while nothing they
   depend on has changed. Every change that would change an answer is seen by the next request when made through
   this app, and within milliseconds when made anywhere else (NOTIFY hd_caller), on both engines. */

let app: TestApp
let a: TestTenant
let b: TestTenant
const SUMMARY = '/api/v1/analytics/dashboard/summary'

/** Counts the identity statements (app.caller_context, the API key lookup) the app runs; passes them through. */
function countIdentityChecks() {
  const spy = vi.spyOn(app.db, 'query')
  const count = () => spy.mock.calls.filter(([text]) => /caller_context|from public\.api_keys k/.test(String(text))).length
  return { get count() { return count() }, restore: () => spy.mockRestore() }
}

/**
 * Makes a change the way another web machine would: on Postgres through a second pool (its own connection, so this
 * process hears of it only by NOTIFY); on PGlite, where one process owns the database, through the database itself.
 */
async function elsewhere(sql: string, params: unknown[]) {
  if (app.engine !== 'postgres') return app.db.query(sql, params)
  const other: Db = openPostgres(app.url!, { max: 1 })
  try {
    return await other.query(sql, params)
  } finally {
    await other.close()
  }
}

/** The status the next request gets, within `ms` (a change made elsewhere arrives by notification). */
async function statusBecomes(path: string, headers: Record<string, string>, status: number, ms = 2_000) {
  const started = Date.now()
  await vi.waitFor(async () => expect((await app.fetch(path, { headers })).status).toBe(status), { timeout: ms, interval: 5 })
  return Date.now() - started
}

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  // the listener is up before the first request can be served from the cache
  const cache = callerCache(app.db)!
  await vi.waitFor(async () => {
    await app.fetch('/api/v1/validate-token', { headers: a.viewer.auth })
    expect(cache.size).toBeGreaterThan(0)
  })
}, 120_000)
afterAll(() => app?.close())

describe('caller cache', () => {
  it('a repeated request with the same credentials runs no identity statement; failed credentials are checked every time', async () => {
    resetAllRateLimits()
    expect((await app.fetch(SUMMARY, { headers: a.operator.auth })).status).toBe(200)
    const checks = countIdentityChecks()
    try {
      for (let i = 0; i < 5; i++) expect((await app.fetch(SUMMARY, { headers: a.operator.auth })).status).toBe(200)
      expect(checks.count).toBe(0)
      const bad = { authorization: `Bearer ${a.operator.tokens.access_token.slice(0, -2)}xx` }
      for (let i = 0; i < 2; i++) expect((await app.fetch(SUMMARY, { headers: bad })).status).toBe(401)
    } finally {
      checks.restore()
    }
  })

  it('logout through the API: the very next request with its access token is refused', async () => {
    resetAllRateLimits()
    const u = await app.createUser(a.id, 'viewer')
    expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(200)
    expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(200) // now from the cache
    const out = await app.fetch(`/api/v1/logout?refresh_token=${encodeURIComponent(u.tokens.refresh_token)}`, { method: 'POST' })
    expect(out.status).toBeLessThan(300)
    expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(401)
  })

  it('a session revoked elsewhere, a user deactivated elsewhere: refused within milliseconds', async () => {
    resetAllRateLimits()
    const u1 = await app.createUser(a.id, 'viewer')
    const u2 = await app.createUser(a.id, 'viewer')
    for (const u of [u1, u2]) for (let i = 0; i < 2; i++) expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(200)
    await elsewhere(`update app.auth_sessions set revoked_at = now() where user_id = $1`, [u1.userId])
    const t1 = await statusBecomes(SUMMARY, u1.auth, 401)
    await elsewhere(`update public.profiles set is_active = false where user_id = $1`, [u2.userId])
    const t2 = await statusBecomes(SUMMARY, u2.auth, 401)
    expect(Math.max(t1, t2)).toBeLessThan(1_000)
  })

  it('a role taken away, through the API and elsewhere: its permission is gone on the next request', async () => {
    resetAllRateLimits()
    const u1 = await app.createUser(a.id, 'viewer')
    const u2 = await app.createUser(a.id, 'viewer')
    for (const u of [u1, u2]) for (let i = 0; i < 2; i++) expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(200)
    const gone = await app.fetch(`/api/v1/users/${u1.userId}/roles`, { method: 'DELETE', headers: a.admin.auth, json: { role: 'viewer' } })
    expect(gone.status).toBeLessThan(300)
    expect((await app.fetch(SUMMARY, { headers: u1.auth })).status).toBe(403)
    await elsewhere(`delete from public.user_roles where user_id = $1`, [u2.userId])
    await statusBecomes(SUMMARY, u2.auth, 403)
  })

  it('an API key revoked through the API is refused at once; its last_used_at updates drop nothing', async () => {
    resetAllRateLimits()
    const c = await json(app.fetch('/api/v1/auth/clients', { method: 'POST', headers: a.admin.auth, json: { name: 'etl', scopes: ['analytics.read'] } }))
    const k = await json(app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.body.client_id, client_secret: c.body.client_secret } }))
    const auth = { authorization: `Bearer ${k.body.api_key}` }
    expect((await app.fetch(SUMMARY, { headers: auth })).status).toBe(200)
    const checks = countIdentityChecks()
    try {
      // the key's use stamp is not a change in who may do what: no notification, the entry stays
      await app.db.query(`update public.api_keys set last_used_at = now() where id = $1`, [k.body.key_id])
      await new Promise((r) => setTimeout(r, 100))
      expect((await app.fetch(SUMMARY, { headers: auth })).status).toBe(200)
      expect(checks.count).toBe(0)
    } finally {
      checks.restore()
    }
    expect((await app.fetch(`/api/v1/auth/apikeys/${k.body.key_id}`, { method: 'DELETE', headers: a.admin.auth })).status).toBe(200)
    expect((await app.fetch(SUMMARY, { headers: auth })).status).toBe(401)
  })

  it("a change in one tenant keeps the other tenant's entries; the entries never answer for another tenant", async () => {
    resetAllRateLimits()
    for (const u of [a.viewer, b.viewer]) expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(200)
    const ub = await app.createUser(b.id, 'viewer')
    expect((await app.fetch(SUMMARY, { headers: ub.auth })).status).toBe(200)
    await elsewhere(`delete from public.user_roles where user_id = $1`, [ub.userId])
    await statusBecomes(SUMMARY, ub.auth, 403)
    const checks = countIdentityChecks()
    try {
      expect((await app.fetch(SUMMARY, { headers: a.viewer.auth })).status).toBe(200)
      expect(checks.count).toBe(0) // tenant a's entry survived tenant b's change
    } finally {
      checks.restore()
    }
    const mine = await json(app.fetch('/api/v1/validate-token', { headers: a.viewer.auth }))
    const theirs = await json(app.fetch('/api/v1/validate-token', { headers: b.viewer.auth }))
    expect(JSON.stringify(mine.body)).toContain(a.id)
    expect(JSON.stringify(theirs.body)).toContain(b.id)
    expect(JSON.stringify(theirs.body)).not.toContain(a.id)
  })

  it('sync(): once it resolves, every change committed before it is seen (a barrier for scripts and tests)', async () => {
    resetAllRateLimits()
    const u = await app.createUser(a.id, 'viewer')
    for (let i = 0; i < 2; i++) expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(200)
    await elsewhere(`update public.profiles set is_active = false where user_id = $1`, [u.userId])
    await callerCache(app.db)!.sync()
    expect((await app.fetch(SUMMARY, { headers: u.auth })).status).toBe(401)
  })

  it('an entry never outlives its token', async () => {
    resetAllRateLimits()
    const { signAccessToken } = await import('#app/features/auth/tokens.server.ts')
    const u = await app.createUser(a.id, 'viewer')
    const claims = JSON.parse(Buffer.from(u.tokens.access_token.split('.')[1], 'base64url').toString())
    const { token } = await signAccessToken({ sub: claims.sub, role: 'authenticated', session_id: claims.session_id, app_metadata: claims.app_metadata }, 1)
    const auth = { authorization: `Bearer ${token}` }
    expect((await app.fetch(SUMMARY, { headers: auth })).status).toBe(200)
    await new Promise((r) => setTimeout(r, 2_100))
    expect((await app.fetch(SUMMARY, { headers: auth })).status).toBe(401)
  })
})
