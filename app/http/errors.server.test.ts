import { describe, expect, it } from 'vitest'
import { toApiError } from './api-route.server.ts'
import { ApiError, keyField } from './errors.server.ts'

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

describe('keyField', () => {
  it('reads the column from the detail, leaving out the tenant', () => {
    expect(keyField({ detail: 'Key (tenant_id, name)=(4f0c…, acme) already exists.' })).toBe('name')
    expect(keyField({ detail: 'Key (tenant_id, lower(email::text))=(4f0c…, a@b.c) already exists.' })).toBe('email')
    expect(keyField({ detail: 'Key (role_id)=(7) is not present in table "roles".' })).toBe('role_id')
  })
  it('falls back to the constraint name when RLS hides the detail', () => {
    expect(keyField({ constraint: 'profiles_username_key', table: 'profiles' })).toBe('username')
    expect(keyField({ constraint: 'templates_tenant_id_template_name_key', table_name: 'templates' })).toBe('template_name')
    expect(keyField({})).toBeUndefined()
  })
})
