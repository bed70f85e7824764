import crypto from 'node:crypto'
import http from 'node:http'
import { expect, test } from './fixtures.ts'

/*
  The API as the production server answers it (the server entry and the React Router build load separate copies of
  the app's modules, which the in-process integration tests cannot show).
*/

test('a well-formed refresh token that is not live is the spec 401, not a 500', async ({ request }) => {
  const res = await request.post(`/api/v1/refresh?refresh_token=${crypto.randomBytes(32).toString('base64url')}`)
  expect(res.status()).toBe(401)
  expect((await res.json()).error.code).toBe('AUTH_REQUIRED')
})

test('an unknown API path answers the JSON 404 envelope for every method; pages keep the HTML 404', async ({ request }) => {
  for (const path of ['/api/v1/nope', '/api/analytics/nope', '/api/v1/analytics/dashboard/nope']) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const res = await request.fetch(path, { method })
      expect(res.status(), `${method} ${path}`).toBe(404)
      expect(res.headers()['content-type'], `${method} ${path}`).toMatch(/^application\/json/)
      expect(res.headers()['x-api-version']).toBe('1')
      expect(res.headers()['x-request-id']).toBeTruthy()
      if (method !== 'HEAD') expect(await res.json()).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND', message: 'Endpoint not found' } })
    }
  }
  const page = await request.get('/no/such/page')
  expect(page.status()).toBe(404)
  expect(page.headers()['content-type']).toMatch(/^text\/html/)
})

/** POSTs `total` bytes chunked (no Content-Length) over a real socket; resolves with the status the server answered. */
function postChunked(url: string, contentType: string, total: number) {
  return new Promise<{ status: number; sent: number }>((resolve, reject) => {
    let sent = 0
    const req = http.request(url, { method: 'POST', headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, sent })
    })
    req.on('error', reject)
    const piece = Buffer.alloc(64 * 1024, 'a')
    const pump = () => {
      while (sent < total) {
        sent += piece.length
        if (!req.write(piece)) return req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
}

test('a chunked body past the limit is a 413 before it is all sent, on the API and the login page', async ({ baseURL }) => {
  const total = 512 * 1024 * 1024
  for (const path of ['/api/v1/login/access-token', '/login']) {
    const r = await postChunked(`${baseURL}${path}`, 'application/x-www-form-urlencoded', total)
    expect(r.status, path).toBe(413)
    expect(r.sent, path).toBeLessThan(total / 4)
  }
})

test('spoofed Fly-Client-IP / X-Forwarded-For do not buy more password guesses off Fly', async ({ request }) => {
  const username = `nobody-${crypto.randomBytes(4).toString('hex')}`
  const statuses: number[] = []
  for (let i = 0; i < 11; i++) {
    const spoof = `203.0.113.${i + 1}`
    const res = await request.post('/api/v1/login/access-token', { form: { username, password: 'wrong' }, headers: { 'fly-client-ip': spoof, 'x-forwarded-for': spoof } })
    statuses.push(res.status())
  }
  expect(statuses.at(-1)).toBe(429)
})
