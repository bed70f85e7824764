import { describe, expect, it } from 'vitest'
import { toApiError } from './api-route.server.ts'
import { ApiError } from './errors.server.ts'

describe('ApiError', () => {
  it('is recognised when thrown by another copy of its module', async () => {
    // The server entry and the React Router build load this module separately (the auth provider comes from the first,
    // routes from the second): a 401 from one must not turn into a 500 in the other.
    const secondCopy = './errors.server.ts?second-copy'
    const other = (await import(/* @vite-ignore */ secondCopy)) as typeof import('./errors.server.ts')
    expect(other.ApiError).not.toBe(ApiError)
    const e = new other.ApiError(401, 'AUTH_REQUIRED', 'Invalid, expired or revoked refresh token')
    expect(e instanceof ApiError).toBe(true)
    expect(toApiError(e)).toMatchObject({ status: 401, code: 'AUTH_REQUIRED' })
  })

  it('is not claimed by other errors', () => {
    expect(new Error('x') instanceof ApiError).toBe(false)
    expect({ status: 401, code: 'AUTH_REQUIRED' } instanceof ApiError).toBe(false)
    expect(toApiError(new Error('boom'))).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' })
  })
})
