import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/**
 * A sweep over every operation in the OpenAPI document (so every route built so far, now and later):
 * nothing answers without credentials unless it is declared public, and garbage ids or bodies from a
 * logged-in user of another tenant are a 4xx in the error envelope — never a 500.
 */
let app: TestApp
let t: TestTenant
let ops: { path: string; method: string; op: { security?: unknown[] } }[]

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  const doc = (await json(app.fetch('/api/v1/openapi.json'))).body
  ops = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  )
})
afterAll(() => app.close())

const fill = (path: string, value: string) => path.replace(/\{[^}]+\}/g, value)

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

  it('answers garbage from an authenticated user with a 4xx envelope, never a 500', async () => {
    const failures: string[] = []
    for (const { path, method } of ops) {
      for (const id of ['999999999', 'not-an-id', '00000000-0000-0000-0000-000000000000', "1'; drop table x;--"]) {
        for (const who of [t.admin, t.viewer]) {
          const url = `${fill(path, encodeURIComponent(id))}?dataset_id=${encodeURIComponent(id)}&id=${encodeURIComponent(id)}&train_id=${encodeURIComponent(id)}&file_id=${encodeURIComponent(id)}`
          const r = await app.fetch(url, { method, headers: who.auth, json: method === 'GET' || method === 'DELETE' ? undefined : { junk: id } })
          if (r.status >= 500) failures.push(`${method} ${path} [${id}] → ${r.status} ${await r.text()}`)
          else if (r.status >= 400 && r.headers.get('content-type')?.includes('json')) {
            const body = await r.json()
            if (body?.status !== 'error' || !body.error?.code) failures.push(`${method} ${path} → ${r.status} without the error envelope`)
          }
        }
      }
    }
    expect(failures).toEqual([])
  })
})
