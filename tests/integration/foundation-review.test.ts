import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { asCaller, openPglite } from '#app/db/db.server.ts'
import { migrate, readMigrations } from '#app/db/migrate.server.ts'
import { signAccessToken } from '#app/features/auth/auth.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/*
  Review of issue 2 (platform foundation): the conventions and identity rules the other suites do not pin down.
  Request log line, X-Request-Id, ETag/304, the migration runner, built-in role permissions, API keys and
  service_role tokens staying inside their tenant, deactivated users, RateLimit headers on ordinary responses.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
})
afterAll(() => app?.close())

/** Runs fn with request logging switched on (it is off under NODE_ENV=test) and returns the JSON lines written to stdout. */
async function captureLog(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const saved = { NODE_ENV: process.env.NODE_ENV, LOG_REQUESTS: process.env.LOG_REQUESTS }
  const lines: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk))
    return true
  })
  process.env.NODE_ENV = 'development'
  process.env.LOG_REQUESTS = 'true'
  try {
    await fn()
  } finally {
    process.env.NODE_ENV = saved.NODE_ENV
    process.env.LOG_REQUESTS = saved.LOG_REQUESTS
    spy.mockRestore()
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((l) => 'status_code' in l)
}

const newApiKey = async (admin: TestTenant['admin'], scopes: string[]) => {
  const c = await json(app.fetch('/api/v1/auth/clients', { method: 'POST', headers: admin.auth, json: { name: 'review', scopes } }))
  expect(c.status).toBe(201)
  const k = await json(app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.body.client_id, client_secret: c.body.client_secret } }))
  expect(k.status).toBe(201)
  return { authorization: `Bearer ${k.body.api_key}` }
}

const serviceToken = async (claimsTenant?: string) =>
  (
    await signAccessToken({
      sub: '00000000-0000-0000-0000-000000000000',
      role: 'service_role',
      app_metadata: claimsTenant ? { tenant_id: claimsTenant } : {},
    })
  ).token

describe('API key privilege (bug first)', () => {
  // Regression: an API key's claims carry sub = the admin who registered the client, so "own password" must not
  // apply to keys (resetPassword and app.set_password_hash both check), or a templates.read key could take over its creator.
  it("a narrowly scoped API key cannot reset its creator's password", async () => {
    const admin = await app.createUser(a.id, 'admin')
    const key = await newApiKey(admin, ['templates.read'])
    const r = await json(
      app.fetch(`/api/v1/reset-password?user_name=${admin.username}&new_password=taken-over-123`, { method: 'POST', headers: key }),
    )
    expect(r.status).toBe(403)
  })
})

describe('service_role token with X-Tenant-Id (bug)', () => {
  it('acts for the named tenant; needs the header; unknown tenant → 401', async () => {
    const token = await serviceToken()
    const v = await json(app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${token}`, 'x-tenant-id': a.id } }))
    expect(v.status).toBe(200)
    expect(v.body).toMatchObject({ kind: 'service', tenant_id: a.id, roles: ['service_role'] })
    const missing = await json(app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${token}` } }))
    expect(missing.status).toBe(400)
    expect(missing.body.error.details.fields[0].field).toBe('X-Tenant-Id')
    const unknown = await app.fetch('/api/v1/validate-token', {
      headers: { authorization: `Bearer ${token}`, 'x-tenant-id': '00000000-0000-4000-8000-000000000000' },
    })
    expect(unknown.status).toBe(401)
    // A token that names its tenant acts for it (the header is ignored then).
    const bound = await json(app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${await serviceToken(b.id)}`, 'x-tenant-id': a.id } }))
    expect(bound.body.tenant_id).toBe(b.id)
  })

  // Regression: service callers acting for a tenant run as database role authenticated (service claims, all
  // permissions) so RLS still filters by tenant; as role service_role they would see every tenant.
  it("stays inside the tenant it acts for (no other tenant's users)", async () => {
    const svc = { authorization: `Bearer ${await serviceToken()}`, 'x-tenant-id': a.id }
    const list = await json(app.fetch('/api/v1/users/read-users/?limit=100', { headers: svc }))
    expect(list.status).toBe(200)
    expect(list.body.data.every((u: { tenant_id: string }) => u.tenant_id === a.id)).toBe(true)
    expect((await app.fetch(`/api/v1/users/${b.viewer.id}`, { headers: svc })).status).toBe(404)
  })
})

describe('request log line', () => {
  it('one JSON line per request with method, path, user_id, status_code, response_time_ms, cache_hit', async () => {
    const lines = await captureLog(async () => {
      await app.fetch('/api/v1/users/read-users/', { headers: { ...a.admin.auth, 'x-request-id': 'review-log-0001' } })
      await app.fetch('/api/v1/users/read-users/')
    })
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({
      request_id: 'review-log-0001',
      method: 'GET',
      path: '/api/v1/users/read-users/',
      user_id: a.admin.userId,
      tenant_id: a.id,
      status_code: 200,
      cache_hit: false,
      level: 'info',
    })
    expect(typeof lines[0].response_time_ms).toBe('number')
    expect(lines[0].response_time_ms as number).toBeGreaterThanOrEqual(0)
    expect(lines[1]).toMatchObject({ method: 'GET', user_id: null, status_code: 401, cache_hit: false })
    // The query string (passwords in reset-password, refresh tokens) never reaches the log.
    const q = await captureLog(() => app.fetch('/api/v1/logout?refresh_token=secret-refresh-value', { method: 'POST' }))
    expect(JSON.stringify(q)).not.toContain('secret-refresh-value')
  })

  it('is off under NODE_ENV=test and with LOG_REQUESTS=false', async () => {
    const spy = vi.spyOn(process.stdout, 'write')
    try {
      await app.fetch('/api/v1/users/read-users/', { headers: a.admin.auth })
      expect(spy.mock.calls.some((c) => String(c[0]).includes('"status_code"'))).toBe(false)
    } finally {
      spy.mockRestore()
    }
  })
})

describe('X-Request-Id', () => {
  it('echoes a well-formed id in the header and the error envelope; replaces a malformed one', async () => {
    const ok = await app.fetch('/api/v1/validate-token', { headers: { ...a.viewer.auth, 'x-request-id': 'client-req.1234_ab' } })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('x-request-id')).toBe('client-req.1234_ab')
    const err = await json(app.fetch('/api/v1/validate-token', { headers: { 'x-request-id': 'client-req.5678_cd' } }))
    expect(err.status).toBe(401)
    expect(err.headers.get('x-request-id')).toBe('client-req.5678_cd')
    expect(err.body.request_id).toBe('client-req.5678_cd')
    const bad = await app.fetch('/api/v1/validate-token', { headers: { ...a.viewer.auth, 'x-request-id': 'a b<script>' } })
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const none = await app.fetch('/api/v1/validate-token', { headers: a.viewer.auth })
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('HTTP caching on cached routes', () => {
  it('ETag + If-None-Match → 304 with the private headers, logged as a cache hit', async () => {
    const path = '/api/v1/analytics/dashboard/summary'
    const first = await app.fetch(path, { headers: a.viewer.auth })
    expect(first.status).toBe(200)
    await first.text()
    const etag = first.headers.get('etag')
    expect(etag).toMatch(/^W\/".+"$/)
    expect(first.headers.get('cache-control')).toBe('private, max-age=300, stale-while-revalidate=60')
    let second: Response | undefined
    const lines = await captureLog(async () => {
      second = await app.fetch(path, { headers: { ...a.viewer.auth, 'if-none-match': etag! } })
    })
    expect(second!.status).toBe(304)
    expect(await second!.text()).toBe('')
    expect(second!.headers.get('etag')).toBe(etag)
    expect(second!.headers.get('cache-control')).toMatch(/^private/)
    expect(second!.headers.get('vary')).toBe('Authorization, Cookie')
    expect(lines[0]).toMatchObject({ status_code: 304, cache_hit: true, path })
    // Another tenant's view of the same route does not match the first tenant's ETag.
    const other = await app.fetch(path, { headers: { ...b.viewer.auth, 'if-none-match': etag! } })
    expect([200, 304]).toContain(other.status)
    await other.text()
    // A stale ETag gets the full body.
    const stale = await app.fetch(path, { headers: { ...a.viewer.auth, 'if-none-match': 'W/"nope"' } })
    expect(stale.status).toBe(200)
    await stale.text()
  })

  it('uncached authenticated routes are private, no-store; errors are no-store', async () => {
    const r = await app.fetch('/api/v1/users/read-users/', { headers: a.admin.auth })
    expect(r.headers.get('cache-control')).toBe('private, no-store')
    expect(r.headers.get('etag')).toBeNull()
    const e = await app.fetch('/api/v1/users/read-users/', { headers: a.viewer.auth })
    expect(e.status).toBe(403)
    expect(e.headers.get('cache-control')).toBe('no-store')
  })
})

describe('migration runner', () => {
  it('records every migration in supabase_migrations.schema_migrations and is idempotent', async () => {
    const files = readMigrations().map((m) => m.version)
    const { rows } = await app.db.query<{ version: string; name: string; statements: string[] }>(
      `select version, name, statements from supabase_migrations.schema_migrations order by version`,
    )
    expect(rows.map((r) => r.version)).toEqual(files)
    expect(rows.every((r) => r.name && Array.isArray(r.statements) && r.statements.length > 0)).toBe(true)
    const log: string[] = []
    expect(await migrate(app.db, { log: (m) => log.push(m) })).toEqual([])
    expect(await migrate(app.db, { log: (m) => log.push(m) })).toEqual([])
    // auth.uid() exists now, so the compatibility schema is not applied again.
    expect(log.filter((m) => /compatibility/.test(m))).toEqual([])
    const count = await app.db.query<{ n: number }>(`select count(*)::int as n from supabase_migrations.schema_migrations`)
    expect(count.rows[0].n).toBe(files.length)
  })

  it('applies the compatibility schema only where auth.uid() is missing', async () => {
    // A bare database whose migrations are all recorded: only the compatibility branch of the runner is exercised.
    const db = await openPglite(undefined)
    try {
      await db.exec(`create schema supabase_migrations;
        create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);`)
      for (const m of readMigrations()) {
        await db.query(`insert into supabase_migrations.schema_migrations (version, name) values ($1, $2)`, [m.version, m.name])
      }
      // Supabase-like: auth.uid() exists → the compatibility schema is not applied (no auth.users created).
      await db.exec(`create schema auth; create function auth.uid() returns uuid language sql stable as $$ select null::uuid $$;`)
      const log: string[] = []
      expect(await migrate(db, { log: (m) => log.push(m) })).toEqual([])
      expect(log).toEqual([])
      expect((await db.query<{ t: string | null }>(`select to_regclass('auth.users')::text as t`)).rows[0].t).toBeNull()
      // Plain Postgres: no auth.uid() → applied once, with the API roles.
      await db.exec(`drop function auth.uid()`)
      expect(await migrate(db, { log: (m) => log.push(m) })).toEqual([])
      expect(log.filter((m) => /compatibility/.test(m))).toHaveLength(1)
      expect((await db.query<{ t: string | null }>(`select to_regclass('auth.users')::text as t`)).rows[0].t).toBe('auth.users')
      const roles = await db.query<{ rolname: string }>(
        `select rolname from pg_roles where rolname in ('anon', 'authenticated', 'service_role') order by 1`,
      )
      expect(roles.rows.map((r) => r.rolname)).toEqual(['anon', 'authenticated', 'service_role'])
      const again: string[] = []
      expect(await migrate(db, { log: (m) => again.push(m) })).toEqual([])
      expect(again).toEqual([])
    } finally {
      await db.close()
    }
  }, 120_000) // two fresh PGlite databases migrated: ~5 s quiet, past 30 s at load average 15
})

describe('built-in roles', () => {
  // Independent statement of the documented role → permission lists (brief / identity migration).
  const ALL = [
    'users.read', 'users.write', 'rbac.read', 'rbac.write', 'api_clients.manage', 'templates.read', 'templates.write',
    'datasets.read', 'datasets.write', 'datalake.read', 'models.read', 'models.write', 'inference.run', 'analytics.read',
    'analytics.write', 'analytics.export', 'approvals.read', 'approvals.decide', 'ingest.write', 'assets.read',
    'assets.write', 'assets.execute', 'jobs.manage',
  ]
  const EXPECTED: Record<'admin' | 'data_scientist' | 'operator' | 'viewer', string[]> = {
    admin: ALL,
    data_scientist: ['templates.read', 'templates.write', 'datasets.read', 'datasets.write', 'datalake.read', 'models.read',
      'models.write', 'inference.run', 'analytics.read', 'analytics.write', 'approvals.read', 'assets.read', 'assets.write',
      'assets.execute', 'jobs.manage', 'users.read'],
    operator: ['templates.read', 'datasets.read', 'datalake.read', 'models.read', 'inference.run', 'analytics.read',
      'approvals.read', 'approvals.decide', 'ingest.write', 'assets.read', 'assets.execute'],
    viewer: ['templates.read', 'datasets.read', 'datalake.read', 'models.read', 'analytics.read', 'approvals.read', 'assets.read'],
  }

  it.each(Object.keys(EXPECTED) as (keyof typeof EXPECTED)[])('%s holds exactly its documented permissions', async (role) => {
    const u = a[role]
    const perms = await asCaller(app.db, { sub: u.userId, role: 'authenticated', app_metadata: { tenant_id: a.id } }, async (tx) =>
      (await tx.query<{ p: string[] }>(`select app.permissions() as p`)).rows[0].p,
    )
    // Other features may add permissions to admin through their own migrations; the documented ones must all be there.
    if (role === 'admin') expect(perms).toEqual(expect.arrayContaining(EXPECTED.admin))
    else expect([...perms].sort()).toEqual([...EXPECTED[role]].sort())
  })

  it('route permissions follow the roles over HTTP', async () => {
    const cases: [string, Record<keyof typeof EXPECTED, number>][] = [
      ['/api/v1/users/read-users/', { admin: 200, data_scientist: 200, operator: 403, viewer: 403 }],
      ['/api/v1/rbac/roles/', { admin: 200, data_scientist: 403, operator: 403, viewer: 403 }],
      ['/api/v1/rbac/permissions/', { admin: 200, data_scientist: 403, operator: 403, viewer: 403 }],
      ['/api/v1/auth/clients', { admin: 200, data_scientist: 403, operator: 403, viewer: 403 }],
    ]
    for (const [path, want] of cases) {
      for (const role of Object.keys(want) as (keyof typeof EXPECTED)[]) {
        const r = await app.fetch(path, { headers: a[role].auth })
        await r.text()
        expect(r.status, `${role} ${path}`).toBe(want[role])
      }
    }
  })
})

describe('API key caller', () => {
  it('acts only within its tenant', async () => {
    const key = await newApiKey(a.admin, ['users.read', 'users.write'])
    const list = await json(app.fetch('/api/v1/users/read-users/?limit=100', { headers: key }))
    expect(list.status).toBe(200)
    expect(list.body.data.length).toBeGreaterThanOrEqual(4)
    expect(list.body.data.every((u: { tenant_id: string }) => u.tenant_id === a.id)).toBe(true)
    expect((await app.fetch(`/api/v1/users/${b.viewer.id}`, { headers: key })).status).toBe(404)
    expect((await app.fetch(`/api/v1/users/${b.viewer.userId}`, { headers: key })).status).toBe(404)
    expect((await app.fetch(`/api/v1/users/${a.viewer.id}`, { headers: key })).status).toBe(200)
    const other = await json(
      app.fetch('/api/v1/users/create-user', {
        method: 'POST',
        headers: key,
        json: { tenant_id: b.id, email: 'k@b.example', username: 'key-into-b', password: 'long-enough-1' },
      }),
    )
    expect(other.status).toBe(403)
    const deact = await app.fetch(`/api/v1/users/${b.viewer.id}`, { method: 'PATCH', headers: key, json: { is_active: false } })
    expect(deact.status).toBe(404)
    // Another tenant's user's password cannot be reset even with users.write.
    const reset = await app.fetch(`/api/v1/reset-password?user_name=${b.viewer.username}&new_password=not-yours-123`, { method: 'POST', headers: key })
    expect([403, 404]).toContain(reset.status)
    const v = await json(app.fetch('/api/v1/validate-token', { headers: key }))
    expect(v.body).toMatchObject({ kind: 'api_key', tenant_id: a.id })
  })
})

describe('deactivated users', () => {
  it('are refused on every credential, and come back when reactivated', async () => {
    const u = await app.createUser(a.id, 'operator')
    const off = await json(app.fetch(`/api/v1/users/${u.id}`, { method: 'PATCH', headers: a.admin.auth, json: { is_active: false } }))
    expect(off.status).toBe(200)
    expect(off.body.is_active).toBe(false)
    const tok = await json(app.fetch('/api/v1/validate-token', { headers: u.auth }))
    expect(tok.status).toBe(401)
    expect(tok.body.error.code).toBe('AUTH_REQUIRED')
    expect((await app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: u.username, password: u.password } })).status).toBe(401)
    expect((await app.fetch(`/api/v1/refresh?refresh_token=${u.tokens.refresh_token}`, { method: 'POST' })).status).toBe(401)
    // In SQL too: no permissions while inactive.
    const perms = await asCaller(app.db, { sub: u.userId, role: 'authenticated', app_metadata: { tenant_id: a.id } }, async (tx) =>
      (await tx.query<{ p: string[] }>(`select app.permissions() as p`)).rows[0].p,
    )
    expect(perms).toEqual([])
    // A viewer cannot deactivate anyone; another tenant's admin cannot see the user.
    expect((await app.fetch(`/api/v1/users/${u.id}`, { method: 'PATCH', headers: a.viewer.auth, json: { is_active: true } })).status).toBe(403)
    expect((await app.fetch(`/api/v1/users/${u.id}`, { method: 'PATCH', headers: b.admin.auth, json: { is_active: true } })).status).toBe(404)
    await app.fetch(`/api/v1/users/${u.id}`, { method: 'PATCH', headers: a.admin.auth, json: { is_active: true } })
    expect((await app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: u.username, password: u.password } })).status).toBe(200)
  })

  it('an admin cannot deactivate their own account (they would lock themselves out)', async () => {
    const admin = await app.createUser(a.id, 'admin')
    const self = await json(app.fetch(`/api/v1/users/${admin.userId}`, { method: 'PATCH', headers: admin.auth, json: { is_active: false } }))
    expect(self.status).toBe(409)
    expect(self.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'is_active' } })
    expect((await json(app.fetch('/api/v1/validate-token', { headers: admin.auth }))).status).toBe(200)
    // Reactivating oneself is harmless, and another admin may still deactivate them.
    expect((await app.fetch(`/api/v1/users/${admin.id}`, { method: 'PATCH', headers: admin.auth, json: { is_active: true } })).status).toBe(200)
    expect((await app.fetch(`/api/v1/users/${admin.id}`, { method: 'PATCH', headers: a.admin.auth, json: { is_active: false } })).status).toBe(200)
  })
})

describe('rate-limit headers', () => {
  it('ordinary responses carry RateLimit-* for their class and Remaining counts down', async () => {
    const u = await app.createUser(a.id, 'viewer')
    const r1 = await app.fetch('/api/v1/validate-token', { headers: u.auth })
    const r2 = await app.fetch('/api/v1/validate-token', { headers: u.auth })
    expect(r1.headers.get('ratelimit-limit')).toBe('600')
    expect(r1.headers.get('ratelimit-policy')).toBe('600;w=60')
    expect(Number(r2.headers.get('ratelimit-remaining'))).toBe(Number(r1.headers.get('ratelimit-remaining')) - 1)
    const d = await app.fetch('/api/v1/analytics/dashboard/summary', { headers: u.auth })
    await d.text()
    expect(d.headers.get('ratelimit-limit')).toBe('60')
    expect(d.headers.get('ratelimit-policy')).toBe('60;w=60')
  })
})
