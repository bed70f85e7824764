import crypto from 'node:crypto'
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
