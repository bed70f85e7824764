import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signAccessToken } from '#app/features/auth/auth.server.ts'
import { resetAllRateLimits } from '#app/http/rate-limit.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/**
 * A sweep over every operation in the OpenAPI document (so every route built so far, now and later):
 * nothing answers without credentials unless it is declared public; dead credentials of the right shape are a 401;
 * values of the right type that name nothing (uuids, ids, names, tokens that do not exist) and plain garbage, from
 * a logged-in user or (on public routes) from nobody, are a 4xx in the error envelope — never a 5xx.
 */
type Schema = Record<string, any>
interface Param { name: string; in: 'query' | 'path'; required?: boolean; schema: Schema }
interface Op { security?: unknown[]; parameters?: Param[]; requestBody?: { content: Record<string, { schema: Schema }> } }

let app: TestApp
let t: TestTenant
let ops: { path: string; method: string; op: Op }[]

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  const doc = (await json(app.fetch('/api/v1/openapi.json'))).body
  ops = Object.entries(doc.paths as Record<string, Record<string, Op>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  )
})
afterAll(() => app.close())

const fill = (path: string, value: string) => path.replace(/\{[^}]+\}/g, value)
const deadToken = () => crypto.randomBytes(32).toString('base64url')

/** Strings of the kinds the API takes, that exist nowhere; the first one a schema accepts is used. */
const STRING_CANDIDATES = () => ['does_not_exist_' + crypto.randomBytes(3).toString('hex'), 'nobody', 'x1', '0', 'a']

/** A value of the schema's type (and format, pattern, bounds) that names nothing that exists. */
function typedValue(schema: Schema, name: string): unknown {
  if (!schema || typeof schema !== 'object') return 'nothing'
  if ('const' in schema) return schema.const
  if (schema.enum) return schema.enum[0]
  const union = schema.oneOf ?? schema.anyOf
  if (union) return typedValue(union.find((s: Schema) => s.type !== 'null') ?? union[0], name)
  switch (schema.type) {
    case 'boolean':
      return false
    case 'integer':
    case 'number': {
      const min = schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? 987_654)
      return Math.min(Math.max(987_654, min), schema.maximum ?? 987_654)
    }
    case 'array': {
      const n = Math.max(1, schema.minItems ?? 1)
      return Array.from({ length: n }, () => typedValue(schema.items ?? { type: 'string' }, name))
    }
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [k, s] of Object.entries<Schema>(schema.properties ?? {})) out[k] = typedValue(s, k)
      return out
    }
    default:
      return typedString(schema, name)
  }
}

function typedString(schema: Schema, name: string): string {
  const fits = (s: string) =>
    s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity) && (!schema.pattern || new RegExp(schema.pattern).test(s))
  const byFormat: Record<string, () => string> = {
    uuid: () => crypto.randomUUID(),
    'date-time': () => new Date().toISOString(),
    date: () => new Date().toISOString().slice(0, 10),
    email: () => `nobody-${crypto.randomBytes(3).toString('hex')}@example.com`,
    uri: () => 'https://example.com/nothing',
  }
  if (schema.format && byFormat[schema.format]) return byFormat[schema.format]()
  const candidates = [
    ...(/token|secret/i.test(name) ? [deadToken()] : []),
    ...(/password/i.test(name) ? ['not-the-password-' + crypto.randomBytes(4).toString('hex')] : []),
    ...(/(^|_)id$/i.test(name) ? [crypto.randomUUID(), '987654'] : []),
    ...(/^(days|hours|limit|skip|lines)$/.test(name) ? ['7'] : []),
    ...STRING_CANDIDATES(),
  ]
  return candidates.find(fits) ?? candidates[0]
}

function requestFor(path: string, method: string, op: Op, mode: 'typed' | 'required-only') {
  const params = op.parameters ?? []
  const pathValues = new Map(params.filter((p) => p.in === 'path').map((p) => [p.name, String(typedValue(p.schema, p.name))]))
  const url = new URL(path.replace(/\{(\w+)\}/g, (_, n) => encodeURIComponent(pathValues.get(n) ?? crypto.randomUUID())), 'http://x')
  for (const p of params.filter((p) => p.in === 'query' && (mode === 'typed' || p.required))) url.searchParams.set(p.name, String(typedValue(p.schema, p.name)))
  const content = op.requestBody?.content ?? {}
  const init: RequestInit & { json?: unknown; form?: Record<string, string> } = { method }
  if (content['application/json']) init.json = typedValue(content['application/json'].schema, 'body')
  else if (content['application/x-www-form-urlencoded']) {
    init.form = Object.fromEntries(Object.entries(typedValue(content['application/x-www-form-urlencoded'].schema, 'body') as object).map(([k, v]) => [k, String(v)]))
  } else if (content['multipart/form-data']) {
    const form = new FormData()
    form.append('files', new Blob(['id,name\n1,nobody\n']), 'nothing.csv')
    init.body = form
  }
  return { url: url.pathname + url.search, init }
}

async function expectEnvelope(r: Response, label: string, failures: string[]) {
  if (r.status >= 500) failures.push(`${label} → ${r.status} ${await r.text()}`)
  else if (r.status >= 400) {
    const body = r.headers.get('content-type')?.includes('json') ? await r.json() : undefined
    if (body?.status !== 'error' || !body.error?.code) failures.push(`${label} → ${r.status} without the error envelope`)
  }
}

describe('every API operation', () => {
  it('is documented', () => {
    expect(ops.length).toBeGreaterThan(15)
  })

  it('refuses anonymous callers unless declared public', async () => {
    const failures: string[] = []
    for (const { path, method, op } of ops) {
      if (!op.security?.length) continue
      const r = await app.fetch(fill(path, '1'), { method, json: method === 'GET' ? undefined : {} })
      if (r.status !== 401) failures.push(`${method} ${path} → ${r.status}`)
      else expect((await r.json()).error.code).toBe('AUTH_REQUIRED')
    }
    expect(failures).toEqual([])
  })

  it('refuses well-formed credentials that name nothing with a 401', async () => {
    const otherKey = new TextEncoder().encode('another-secret-0123456789abcdef0123456789')
    const { SignJWT } = await import('jose')
    const forged = await new SignJWT({ sub: t.admin.userId, role: 'authenticated', session_id: crypto.randomUUID(), app_metadata: { tenant_id: t.id, roles: ['admin'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('authenticated')
      .setExpirationTime('1h')
      .sign(otherKey)
    const deadSession = (await signAccessToken({ sub: t.admin.userId, role: 'authenticated', session_id: crypto.randomUUID(), app_metadata: { tenant_id: t.id, roles: ['admin'] } })).token
    const deadTenant = (await signAccessToken({ sub: crypto.randomUUID(), role: 'authenticated', session_id: crypto.randomUUID(), app_metadata: { tenant_id: crypto.randomUUID(), roles: ['admin'] } })).token
    const bearers = { forged, deadSession, deadTenant, deadApiKey: `hd_sk_${deadToken()}` }
    const failures: string[] = []
    for (const { path, method, op } of ops) {
      if (!op.security?.length) continue
      resetAllRateLimits() // 100 failed credentials from one address lock it out (429): a fresh budget per operation
      for (const [kind, token] of Object.entries(bearers)) {
        const { url, init } = requestFor(path, method, op, 'typed')
        const r = await app.fetch(url, { ...init, headers: { authorization: `Bearer ${token}` } })
        if (r.status !== 401) failures.push(`${method} ${path} [${kind}] → ${r.status}`)
      }
    }
    expect(failures).toEqual([])
  })

  it('answers well-typed values that name nothing with a 2xx or a 4xx envelope, never a 5xx', async () => {
    const failures: string[] = []
    const seen: string[] = []
    for (const { path, method, op } of ops) {
      resetAllRateLimits()
      const callers = op.security?.length ? [t.viewer.auth, t.admin.auth] : [{}, t.viewer.auth]
      for (const mode of ['typed', 'required-only'] as const) {
        for (const headers of callers) {
          const { url, init } = requestFor(path, method, op, mode)
          const r = await app.fetch(url, { ...init, headers })
          seen.push(`${method} ${url} → ${r.status} ${r.status === 400 ? await r.clone().text() : ""}`)
          await expectEnvelope(r, `${method} ${url} [${mode}]`, failures)
        }
      }
    }
    if (process.env.SWEEP_VERBOSE) console.log(seen.join('\n'))
    expect(failures).toEqual([])
    // The case that slipped through before: a well-formed refresh token that is not live is the spec's 401.
    resetAllRateLimits()
    const refresh = await json(app.fetch(`/api/v1/refresh?refresh_token=${deadToken()}`, { method: 'POST' }))
    expect(refresh).toMatchObject({ status: 401, body: { error: { code: 'AUTH_REQUIRED' } } })
  }, 180_000) // grows with the number of operations

  it('answers garbage from an authenticated user with a 4xx envelope, never a 500', async () => {
    const failures: string[] = []
    for (const { path, method } of ops) {
      for (const id of ['999999999', 'not-an-id', '00000000-0000-0000-0000-000000000000', "1'; drop table x;--"]) {
        for (const who of [t.admin, t.viewer]) {
          const url = `${fill(path, encodeURIComponent(id))}?dataset_id=${encodeURIComponent(id)}&id=${encodeURIComponent(id)}&train_id=${encodeURIComponent(id)}&file_id=${encodeURIComponent(id)}`
          const r = await app.fetch(url, { method, headers: who.auth, json: method === 'GET' || method === 'DELETE' ? undefined : { junk: id } })
          await expectEnvelope(r, `${method} ${path} [${id}]`, failures)
        }
      }
    }
    expect(failures).toEqual([])
  }, 180_000)
})

describe('an unknown API path', () => {
  it('answers the JSON envelope 404 NOT_FOUND for every method, under /api/v1/ and /api/analytics/', async () => {
    for (const path of ['/api/v1/nope', '/api/v1/users/x/nope/deeper', '/api/analytics/nope', '/api/analytics/dashboard/nope', '/api/nope']) {
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const r = await app.fetch(path, { method, headers: t.admin.auth })
        expect(r.status, `${method} ${path}`).toBe(404)
        expect(r.headers.get('content-type')).toMatch(/^application\/json/)
        expect(r.headers.get('x-api-version')).toBe('1')
        expect(r.headers.get('x-request-id')).toMatch(/^[\w.-]{8,}$/)
        if (method !== 'HEAD') {
          const body = await r.json()
          expect(body).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND', message: 'Endpoint not found' }, request_id: r.headers.get('x-request-id') })
        }
      }
    }
  })
})
