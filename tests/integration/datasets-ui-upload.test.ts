import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { csrfToken } from '#app/features/auth/auth.server.ts'
import { consumeRateLimit } from '#app/http/rate-limit.server.ts'
import { action } from '#app/routes/_app.datasets_.upload.tsx'
import { createTemplate, json, setupTestApp, uploadCsv, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { gate, multipartBody } from '#tests/support/multipart.ts'

/**
 * The page's upload endpoint (/datasets/upload, with the session cookie) and POST /api/v1/dataset/upload are one path
 * with one policy: the same rate-limit budget, the same request log line, the same envelope — and a CSRF token that
 * must come as a header, so a raw body is never read to look for it.
 */

let app: TestApp
let t: TestTenant
let templateId: number

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  templateId = await createTemplate(app, t.admin, 'U', [
    { column_name: 'id', data_type: 'Integer' },
    { column_name: 'x', data_type: 'Float' },
  ])
})
afterAll(() => app.close())

const claimsOf = (user: TestUser) => JSON.parse(Buffer.from(user.tokens.access_token.split('.')[1], 'base64url').toString())
const csrfOf = (user: TestUser) => csrfToken({ sessionId: claimsOf(user).session_id, userId: user.userId })
const csv = (n: number) => 'id,x\n' + Array.from({ length: n }, (_, i) => `${i + 1},${i / 2}`).join('\n') + '\n'

/** POSTs to the page's upload route as the browser does: session cookie, CSRF header, multipart form. */
async function pageUpload(user: TestUser, qs: string, o: { csrf?: string | null; cookie?: string; body?: ReadableStream<Uint8Array> } = {}) {
  const headers = new Headers({ cookie: o.cookie ?? `hd_at=${user.tokens.access_token}` })
  if (o.csrf !== null) headers.set('x-csrf-token', o.csrf ?? csrfOf(user))
  let body: BodyInit
  if (o.body) {
    headers.set('content-type', 'multipart/form-data; boundary=pg')
    body = o.body
  } else {
    const form = new FormData()
    form.append('files', new Blob([csv(50)]), 'page.csv')
    body = form
  }
  const request = new Request(`http://hotdash.test/datasets/upload?${qs}`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit)
  return json(action({ request, params: {}, context: {} } as never))
}
const qs = (name: string) => `dataset_name=${name}&usage=t&template_id=${templateId}`

describe('the page’s upload endpoint', () => {
  it('answers as the API does and spends the same rate-limit budget', async () => {
    const api1 = await uploadCsv(app, t.admin, qs('api-1'), csv(50))
    expect(api1.status).toBe(201)
    const left = Number(api1.headers.get('ratelimit-remaining'))
    const page = await pageUpload(t.admin, qs('page-1'))
    expect(page.status, JSON.stringify(page.body)).toBe(201)
    expect(Object.keys(page.body).sort()).toEqual(Object.keys(api1.body).sort())
    expect(page.body.files[0]).toMatchObject({ file_name: 'page.csv', total_records: 50 })
    expect(page.headers.get('x-api-version')).toBe('1')
    expect(page.headers.get('x-request-id')).toBeTruthy()
    expect(Number(page.headers.get('ratelimit-remaining'))).toBe(left - 1)
    const api2 = await uploadCsv(app, t.admin, qs('api-2'), csv(50))
    expect(Number(api2.headers.get('ratelimit-remaining'))).toBe(left - 2)
  })

  it('is refused with the API’s 429 once the caller’s budget is spent, without reading the body', async () => {
    const user = t.data_scientist
    const probe = await uploadCsv(app, user, qs('budget-probe'), csv(5))
    expect(probe.status).toBe(201)
    await consumeRateLimit('default', `user:${user.userId}`, Number(probe.headers.get('ratelimit-remaining')))
    const never = gate(30_000)
    const r = await pageUpload(user, qs('over-budget'), { body: multipartBody('pg', [csv(10_000)], { pauseAt: 0, resume: never.opened }) })
    never.release()
    expect(r.status).toBe(429)
    expect(r.body.error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { class: 'default' } })
    expect(r.headers.get('retry-after')).toBeTruthy()
  })

  it('writes the same request log line as the API route', async () => {
    const saved = { NODE_ENV: process.env.NODE_ENV, LOG_REQUESTS: process.env.LOG_REQUESTS }
    const lines: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk))
      return true
    })
    try {
      // Request logs are off under NODE_ENV=test.
      process.env.NODE_ENV = 'production'
      process.env.LOG_REQUESTS = 'true'
      expect((await pageUpload(t.admin, qs('logged'))).status).toBe(201)
    } finally {
      write.mockRestore()
      process.env.NODE_ENV = saved.NODE_ENV
      if (saved.LOG_REQUESTS === undefined) delete process.env.LOG_REQUESTS
      else process.env.LOG_REQUESTS = saved.LOG_REQUESTS
    }
    const logged = lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'info', method: 'POST', path: '/datasets/upload', status_code: 201, user_id: t.admin.userId, tenant_id: t.id, response_time_ms: expect.any(Number) }),
    )
  })

  it('needs the CSRF token as a header: without it a 403 naming csrf, before any byte of the body is read', async () => {
    const never = gate(30_000)
    const t0 = performance.now()
    const r = await pageUpload(t.admin, qs('no-csrf'), { csrf: null, body: multipartBody('pg', [csv(10_000)], { pauseAt: 0, resume: never.opened }) })
    never.release()
    expect(r.status).toBe(403)
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', details: { field: 'csrf' } })
    expect(performance.now() - t0).toBeLessThan(5000)
    expect((await pageUpload(t.admin, qs('bad-csrf'), { csrf: 'x'.repeat(43) })).status).toBe(403)
  })

  it('refreshes an expired session as pages do, and answers 401 in the envelope without one', async () => {
    const r = await pageUpload(t.admin, qs('refreshed'), { cookie: `hd_at=expired; hd_rt=${t.admin.tokens.refresh_token}` })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.headers.getSetCookie().some((c) => c.startsWith('hd_at='))).toBe(true)
    const none = await pageUpload(t.admin, qs('anonymous'), { cookie: '' })
    expect(none.status).toBe(401)
    expect(none.body.error.code).toBe('AUTH_REQUIRED')
  })
})
