import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import { signingKey } from '#app/features/auth/auth.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

let app: TestApp
let a: TestTenant
let b: TestTenant

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
})
afterAll(() => app.close())

describe('login', () => {
  it('issues a token pair for form credentials and the token works', async () => {
    const r = await json(app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: a.viewer.username, password: a.viewer.password } }))
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ token_type: 'bearer', access_token: expect.any(String), refresh_token: expect.any(String) })
    const me = await json(app.fetch('/api/v1/login/test-token', { method: 'POST', headers: { authorization: `Bearer ${r.body.access_token}` } }))
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ username: a.viewer.username, tenant_id: a.id, email: a.viewer.email, is_active: true, id: a.viewer.id })
  })

  it('accepts the email as username too', async () => {
    const r = await app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: a.viewer.email, password: a.viewer.password } })
    expect(r.status).toBe(200)
  })

  it('refuses a wrong password with the error envelope', async () => {
    const r = await json(app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: a.operator.username, password: 'nope-nope' } }))
    expect(r.status).toBe(401)
    expect(r.body).toMatchObject({ status: 'error', error: { code: 'AUTH_REQUIRED' }, request_id: expect.any(String), timestamp: expect.any(String) })
  })

  it('names the missing field', async () => {
    const r = await json(app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: 'x' } }))
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('VALIDATION_ERROR')
    expect(r.body.error.details.fields[0].field).toBe('password')
  })

  it('locks out brute force with 429, Retry-After and RateLimit headers', async () => {
    const u = await app.createUser(a.id, 'viewer')
    const statuses: number[] = []
    let last: Response | undefined
    for (let i = 0; i < 11; i++) {
      last = await app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: u.username, password: `wrong-${i}` } })
      statuses.push(last.status)
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true)
    expect(statuses[10]).toBe(429)
    const body = await last!.json()
    expect(body.error.code).toBe('RATE_LIMIT_EXCEEDED')
    expect(body.error.details).toMatchObject({ limit: 10, window: 900, retry_after: expect.any(Number) })
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(last!.headers.get('ratelimit-limit')).toBe('10')
    expect(last!.headers.get('ratelimit-remaining')).toBe('0')
  })
})

describe('refresh and logout', () => {
  it('rotates refresh tokens, detects reuse, and logout ends the access token too', async () => {
    const u = await app.createUser(a.id, 'viewer')
    const r1 = await json(app.fetch(`/api/v1/refresh?refresh_token=${u.tokens.refresh_token}`, { method: 'POST' }))
    expect(r1.status).toBe(200)
    expect(r1.body.refresh_token).not.toBe(u.tokens.refresh_token)
    // The old token again: reuse → the whole session is revoked.
    const reuse = await app.fetch(`/api/v1/refresh?refresh_token=${u.tokens.refresh_token}`, { method: 'POST' })
    expect(reuse.status).toBe(401)
    const after = await app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${r1.body.access_token}` } })
    expect(after.status).toBe(401)

    const u2 = await app.createUser(a.id, 'viewer')
    expect((await app.fetch('/api/v1/validate-token', { headers: u2.auth })).status).toBe(200)
    const out = await app.fetch(`/api/v1/logout?refresh_token=${u2.tokens.refresh_token}`, { method: 'POST' })
    expect(out.status).toBe(200)
    expect((await app.fetch('/api/v1/validate-token', { headers: u2.auth })).status).toBe(401)
    expect((await app.fetch(`/api/v1/refresh?refresh_token=${u2.tokens.refresh_token}`, { method: 'POST' })).status).toBe(401)
  })
})

describe('tokens that must be refused', () => {
  const sign = (claims: Record<string, unknown>, key: Uint8Array, exp = Math.floor(Date.now() / 1000) + 60) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('hot-dash').setIssuedAt().setExpirationTime(exp).sign(key)
  const claims = () => ({ sub: a.admin.userId, role: 'authenticated', aud: 'authenticated', session_id: 'x', app_metadata: { tenant_id: a.id } })

  it.each([
    ['forged (wrong key)', async () => sign(claims(), new TextEncoder().encode('x'.repeat(40)))],
    ['expired', async () => sign(claims(), signingKey(), Math.floor(Date.now() / 1000) - 10)],
    ['wrong audience', async () => sign({ ...claims(), aud: 'somebody-else' }, signingKey())],
    ['garbage', async () => 'not.a.jwt'],
  ])('%s → 401', async (_name, make) => {
    const r = await json(app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${await make()}` } }))
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('AUTH_REQUIRED')
  })

  it('no credentials → 401 envelope with the standard headers', async () => {
    const r = await app.fetch('/api/v1/users/read-users/')
    expect(r.status).toBe(401)
    expect(r.headers.get('x-api-version')).toBe('1')
    expect(r.headers.get('x-request-id')).toBeTruthy()
    expect((await r.json()).error.code).toBe('AUTH_REQUIRED')
  })
})

describe('users', () => {
  it('an admin creates a user in their tenant, who can then log in', async () => {
    const r = await json(
      app.fetch('/api/v1/users/create-user', {
        method: 'POST',
        headers: a.admin.auth,
        json: { tenant_id: a.id, first_name: 'jane', last_name: 'doe', email: 'jane.doe@example.com', username: 'janedoe', password: 'Password123!' },
      }),
    )
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ username: 'janedoe', tenant_id: a.id, roles: ['viewer'], is_active: true })
    const login = await app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: 'janedoe', password: 'Password123!' } })
    expect(login.status).toBe(200)
    const dup = await json(
      app.fetch('/api/v1/users/create-user', {
        method: 'POST',
        headers: a.admin.auth,
        json: { tenant_id: a.id, email: 'other@example.com', username: 'janedoe', password: 'Password123!' },
      }),
    )
    expect(dup.status).toBe(409)
  })

  it('refuses: a viewer (403), another tenant (403), a bad email (400 naming email)', async () => {
    const body = { tenant_id: a.id, email: 'v@example.com', username: 'v-user', password: 'Password123!' }
    expect((await app.fetch('/api/v1/users/create-user', { method: 'POST', headers: a.viewer.auth, json: body })).status).toBe(403)
    const cross = await app.fetch('/api/v1/users/create-user', { method: 'POST', headers: a.admin.auth, json: { ...body, tenant_id: b.id } })
    expect(cross.status).toBe(403)
    const bad = await json(app.fetch('/api/v1/users/create-user', { method: 'POST', headers: a.admin.auth, json: { ...body, email: 'nope' } }))
    expect(bad.status).toBe(400)
    expect(bad.body.error.details.fields.map((f: { field: string }) => f.field)).toContain('email')
  })

  it("lists only the caller's tenant and hides other tenants' users as 404", async () => {
    const list = await json(app.fetch('/api/v1/users/read-users/', { headers: a.admin.auth }))
    expect(list.status).toBe(200)
    expect(list.body.count).toBe(list.body.data.length)
    expect(list.body.data.every((u: { tenant_id: string }) => u.tenant_id === a.id)).toBe(true)
    expect((await app.fetch(`/api/v1/users/${a.viewer.id}`, { headers: a.admin.auth })).status).toBe(200)
    for (const id of [b.admin.id, b.admin.userId, 999999, 'abc']) {
      const r = await json(app.fetch(`/api/v1/users/${id}`, { headers: a.admin.auth }))
      expect(r.status).toBe(404)
      expect(r.body.error.code).toBe('NOT_FOUND')
    }
  })

  it('pages the user list and validates paging', async () => {
    const r = await json(app.fetch('/api/v1/users/read-users/?limit=2&skip=1', { headers: a.admin.auth }))
    expect(r.body.data).toHaveLength(2)
    expect((await app.fetch('/api/v1/users/read-users/?limit=0', { headers: a.admin.auth })).status).toBe(400)
  })
})

describe('reset password', () => {
  it('is never anonymous', async () => {
    const r = await app.fetch(`/api/v1/reset-password?user_name=${a.viewer.username}&new_password=Something123`, { method: 'POST' })
    expect(r.status).toBe(401)
  })

  it('lets a user reset their own, an admin reset others in the tenant, nobody else', async () => {
    const u = await app.createUser(a.id, 'viewer')
    const own = await app.fetch(`/api/v1/reset-password?user_name=${u.username}&new_password=NewSecret123`, { method: 'POST', headers: u.auth })
    expect(own.status).toBe(200)
    expect((await app.fetch('/api/v1/login/access-token', { method: 'POST', form: { username: u.username, password: 'NewSecret123' } })).status).toBe(200)
    const other = await app.fetch(`/api/v1/reset-password?user_name=${a.operator.username}&new_password=NewSecret123`, { method: 'POST', headers: u.auth })
    expect(other.status).toBe(403)
    const byAdmin = await app.fetch(`/api/v1/reset-password?user_name=${u.username}&new_password=AdminSet1234`, { method: 'POST', headers: a.admin.auth })
    expect(byAdmin.status).toBe(200)
    // A password set by someone else ends the user's sessions.
    expect((await app.fetch('/api/v1/validate-token', { headers: u.auth })).status).toBe(401)
    const crossTenant = await app.fetch(`/api/v1/reset-password?user_name=${b.viewer.username}&new_password=AdminSet1234`, { method: 'POST', headers: a.admin.auth })
    expect(crossTenant.status).toBe(404)
    const short = await json(app.fetch(`/api/v1/reset-password?user_name=${u.username}&new_password=short`, { method: 'POST', headers: a.admin.auth }))
    expect(short.status).toBe(400)
    expect(short.body.error.details.fields[0].field).toBe('new_password')
  })
})

describe('RBAC', () => {
  it('creates roles and permissions, links them, and the permission takes effect', async () => {
    const role = await json(app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: a.admin.auth, json: { name: 'user_admins', tenant_id: a.id } }))
    expect(role.status).toBe(201)
    const perm = await json(app.fetch('/api/v1/rbac/permissions/', { method: 'POST', headers: a.admin.auth, json: { name: 'can_train_models', tenant_id: a.id } }))
    expect(perm.status).toBe(201)
    expect((await app.fetch(`/api/v1/rbac/roles/${role.body.id}/permissions`, { method: 'POST', headers: a.admin.auth, json: { permission: 'users.read' } })).status).toBe(200)
    const u = await app.createUser(a.id, 'operator')
    expect((await app.fetch('/api/v1/users/read-users/', { headers: u.auth })).status).toBe(403)
    const assigned = await json(app.fetch(`/api/v1/users/${u.id}/roles`, { method: 'POST', headers: a.admin.auth, json: { role: 'user_admins' } }))
    expect(assigned.body.roles).toEqual(['operator', 'user_admins'])
    expect((await app.fetch('/api/v1/users/read-users/', { headers: u.auth })).status).toBe(200)
    const roles = await json(app.fetch('/api/v1/rbac/roles/', { headers: a.admin.auth }))
    expect(roles.body.data.find((r: { name: string }) => r.name === 'user_admins').permissions).toEqual(['users.read'])
    const perms = await json(app.fetch('/api/v1/rbac/permissions/', { headers: a.admin.auth }))
    expect(perms.body.data.map((p: { name: string }) => p.name)).toContain('can_train_models')
  })

  it("cannot touch another tenant's roles, users or permissions", async () => {
    const bRoles = await json(app.fetch('/api/v1/rbac/roles/', { headers: b.admin.auth }))
    const bAdminRole = bRoles.body.data.find((r: { name: string }) => r.name === 'admin')
    expect((await app.fetch(`/api/v1/rbac/roles/${bAdminRole.id}/permissions`, { method: 'POST', headers: a.admin.auth, json: { permission: 'users.read' } })).status).toBe(404)
    expect((await app.fetch(`/api/v1/users/${b.viewer.id}/roles`, { method: 'POST', headers: a.admin.auth, json: { role: 'admin' } })).status).toBe(404)
    expect((await app.fetch(`/api/v1/users/${a.viewer.id}/roles`, { method: 'POST', headers: a.admin.auth, json: { role: bAdminRole.id } })).status).toBe(404)
    expect((await app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: a.admin.auth, json: { name: 'x_role', tenant_id: b.id } })).status).toBe(403)
    expect((await app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: a.viewer.auth, json: { name: 'x_role', tenant_id: a.id } })).status).toBe(403)
    const bad = await json(app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: a.admin.auth, json: { name: 'Bad Name!', tenant_id: a.id } }))
    expect(bad.status).toBe(400)
    expect(bad.body.error.details.fields[0].field).toBe('name')
  })
})

describe('API clients and keys', () => {
  async function newClient(scopes: string[]) {
    const c = await json(app.fetch('/api/v1/auth/clients', { method: 'POST', headers: a.admin.auth, json: { name: 'etl', scopes } }))
    expect(c.status).toBe(201)
    return c.body as { id: string; client_id: string; client_secret: string }
  }

  it('exchanges client credentials for a scoped key that works within its scopes only', async () => {
    const c = await newClient(['users.read', 'analytics.read'])
    const k = await json(app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.client_id, client_secret: c.client_secret, scope: ['users.read'] } }))
    expect(k.status).toBe(201)
    expect(k.body.api_key).toMatch(/^hd_sk_/)
    const auth = { authorization: `Bearer ${k.body.api_key}` }
    const users = await json(app.fetch('/api/v1/users/read-users/', { headers: { ...auth, 'x-wia-client-id': c.client_id } }))
    expect(users.status).toBe(200)
    expect(users.body.data.every((u: { tenant_id: string }) => u.tenant_id === a.id)).toBe(true)
    expect((await app.fetch('/api/v1/rbac/roles/', { headers: auth })).status).toBe(403)
    expect((await app.fetch('/api/v1/users/read-users/', { headers: { ...auth, 'x-wia-client-id': 'hdc_other' } })).status).toBe(401)
    // The key is stored only as a hash.
    const { rows } = await app.db.query(`select key_hash, prefix from public.api_keys where id = $1`, [k.body.key_id])
    expect(rows[0].key_hash).not.toContain(k.body.api_key)
    expect(rows[0].key_hash).toHaveLength(64)
    // Revoked → refused.
    expect((await app.fetch(`/api/v1/auth/apikeys/${k.body.key_id}`, { method: 'DELETE', headers: a.admin.auth })).status).toBe(200)
    expect((await app.fetch('/api/v1/users/read-users/', { headers: auth })).status).toBe(401)
  })

  it('refuses wrong secrets, scopes beyond the client, expired keys and revoked clients', async () => {
    const c = await newClient(['analytics.read'])
    expect((await app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.client_id, client_secret: 'wrong' } })).status).toBe(401)
    expect((await app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.client_id, client_secret: c.client_secret, scope: ['users.write'] } })).status).toBe(403)
    const k = await json(app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.client_id, client_secret: c.client_secret } }))
    await app.db.query(`update public.api_keys set expires_at = now() - interval '1 second' where id = $1`, [k.body.key_id])
    expect((await app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${k.body.api_key}` } })).status).toBe(401)
    const k2 = await json(app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.client_id, client_secret: c.client_secret } }))
    expect((await app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${k2.body.api_key}` } })).status).toBe(200)
    expect((await app.fetch(`/api/v1/auth/clients/${c.id}`, { method: 'DELETE', headers: a.admin.auth })).status).toBe(200)
    expect((await app.fetch('/api/v1/validate-token', { headers: { authorization: `Bearer ${k2.body.api_key}` } })).status).toBe(401)
    expect((await app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: c.client_id, client_secret: c.client_secret } })).status).toBe(401)
  })

  it("an admin cannot grant scopes they lack, nor see or revoke another tenant's clients", async () => {
    const bad = await json(app.fetch('/api/v1/auth/clients', { method: 'POST', headers: a.admin.auth, json: { name: 'x', scopes: ['no.such.scope'] } }))
    expect(bad.status).toBe(400)
    const cb = await json(app.fetch('/api/v1/auth/clients', { method: 'POST', headers: b.admin.auth, json: { name: 'b-etl', scopes: ['analytics.read'] } }))
    const list = await json(app.fetch('/api/v1/auth/clients', { headers: a.admin.auth }))
    expect(list.body.data.some((c: { id: string }) => c.id === cb.body.id)).toBe(false)
    expect((await app.fetch(`/api/v1/auth/clients/${cb.body.id}`, { method: 'DELETE', headers: a.admin.auth })).status).toBe(404)
    expect((await app.fetch('/api/v1/auth/clients', { headers: a.operator.auth })).status).toBe(403)
  })
})

describe('conventions', () => {
  it('health check answers without auth and touches the database', async () => {
    for (const p of ['/api/v1/utils/health-check/', '/healthz']) {
      const r = await json(app.fetch(p))
      expect(r.status).toBe(200)
      expect(r.body).toMatchObject({ status: 'ok', database: { ok: true, engine: app.engine } })
    }
  })

  it('authenticated data is private and varies by credentials', async () => {
    const r = await app.fetch('/api/v1/users/read-users/', { headers: a.admin.auth })
    expect(r.headers.get('cache-control')).toMatch(/^private/)
    expect(r.headers.get('vary')).toBe('Authorization, Cookie')
    expect(r.headers.get('x-api-version')).toBe('1')
  })

  it('a method the route does not serve → 405 envelope', async () => {
    const r = await json(app.fetch('/api/v1/users/read-users/', { method: 'DELETE', headers: a.admin.auth }))
    expect(r.status).toBe(405)
    expect(r.body.error.code).toBe('METHOD_NOT_ALLOWED')
  })

  it('malformed JSON → 400, never 500', async () => {
    const r = await json(app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: { ...a.admin.auth, 'content-type': 'application/json' }, body: '{"name":' }))
    expect(r.status).toBe(400)
    expect(r.body.error.details.fields[0].field).toBe('body')
  })

  it('publishes an OpenAPI 3.1 document built from the route schemas', async () => {
    const r = await json(app.fetch('/api/v1/openapi.json'))
    expect(r.body.openapi).toBe('3.1.0')
    const op = r.body.paths['/api/v1/users/create-user'].post
    expect(op.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['tenant_id', 'email', 'username', 'password']))
    expect(r.body.paths['/api/v1/users/{user_id}'].get.parameters[0]).toMatchObject({ name: 'user_id', in: 'path' })
  })
})

describe('browser sessions', () => {
  it('parallel page loads with an expired access cookie share one refresh (no false token-reuse logout)', async () => {
    const { getSessionCaller } = await import('#app/features/auth/auth.server.ts')
    const u = await app.createUser(a.id, 'viewer')
    const cookie = `hd_rt=${u.tokens.refresh_token}`
    // Separate requests, as a page load plus a fetcher would send them.
    const results = await Promise.all([1, 2, 3].map(() => getSessionCaller(new Request('http://hotdash.test/', { headers: { cookie } }))))
    for (const r of results) expect(r.caller?.userId).toBe(u.userId)
    expect(results[0].headers.get('set-cookie')).toContain('hd_at=')
    // The session is still alive: the rotated refresh token works.
    const rotated = /hd_rt=([^;]+)/.exec(results[0].headers.get('set-cookie')!)![1]
    expect((await app.fetch(`/api/v1/refresh?refresh_token=${decodeURIComponent(rotated)}`, { method: 'POST' })).status).toBe(200)
  })

  it('cookie-authenticated mutations need the CSRF token; bearer requests do not', async () => {
    const { csrfToken } = await import('#app/features/auth/auth.server.ts')
    const cookie = { cookie: `hd_at=${a.admin.tokens.access_token}` }
    expect((await app.fetch('/api/v1/rbac/roles/', { headers: cookie })).status).toBe(200)
    const without = await json(app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: cookie, json: { name: 'csrf_a', tenant_id: a.id } }))
    expect(without.status).toBe(403)
    expect(without.body.error.message).toMatch(/CSRF/)
    const wrong = await app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: { ...cookie, 'x-csrf-token': 'x'.repeat(43) }, json: { name: 'csrf_b', tenant_id: a.id } })
    expect(wrong.status).toBe(403)
    const sessionId = JSON.parse(Buffer.from(a.admin.tokens.access_token.split('.')[1], 'base64url').toString()).session_id
    const token = csrfToken({ sessionId, userId: a.admin.userId })
    const ok = await app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: { ...cookie, 'x-csrf-token': token }, json: { name: 'csrf_c', tenant_id: a.id } })
    expect(ok.status).toBe(201)
    // Another session's token does not pass.
    const other = csrfToken({ sessionId: crypto.randomUUID(), userId: a.admin.userId })
    expect((await app.fetch('/api/v1/rbac/roles/', { method: 'POST', headers: { ...cookie, 'x-csrf-token': other }, json: { name: 'csrf_d', tenant_id: a.id } })).status).toBe(403)
  })
})

describe('row-level security in SQL, as role authenticated', () => {
  const claimsOf = (t: TestTenant, u = t.admin) => ({ sub: u.userId, role: 'authenticated' as const, app_metadata: { tenant_id: t.id } })

  it("sees only its own tenant's rows and cannot write into another tenant", async () => {
    await asCaller(app.db, claimsOf(a), async (tx) => {
      for (const table of ['profiles', 'roles', 'permissions', 'role_permissions', 'user_roles', 'api_clients', 'api_keys', 'tenants']) {
        const col = table === 'tenants' ? 'id' : 'tenant_id'
        const { rows } = await tx.query(`select count(*)::int as n from public.${table} where ${col} = $1`, [b.id])
        expect(rows[0].n, table).toBe(0)
      }
    })
    await expect(
      asCaller(app.db, claimsOf(a), (tx) => tx.query(`insert into public.roles (tenant_id, name) values ($1, 'sneaky')`, [b.id])),
    ).rejects.toThrow(/row-level security/)
    await expect(
      asCaller(app.db, claimsOf(a), (tx) => tx.query(`update public.profiles set tenant_id = $1 where user_id = $2`, [b.id, a.viewer.userId])),
    ).rejects.toThrow()
  })

  it('anon sees nothing', async () => {
    await asCaller(app.db, null, async (tx) => {
      const { rows } = await tx.query(`select count(*)::int as n from public.profiles`)
      expect(rows[0].n).toBe(0)
    })
  })
})
