import { describe, expect, it } from 'vitest'
import { signAccessToken, verifyJwt } from './tokens.server.ts'

/* Verified tokens are remembered until they expire (decision 019): what that may never change. */

const claims = { sub: '11111111-1111-1111-1111-111111111111', role: 'authenticated' as const, session_id: 's', app_metadata: { tenant_id: 't', roles: ['viewer'] } }

describe('verifyJwt with remembered tokens', () => {
  it('answers the same claims again, frozen so no caller can change what the next one gets', async () => {
    const { token } = await signAccessToken(claims, 60)
    const first = await verifyJwt(token)
    const again = await verifyJwt(token)
    expect(again).toEqual(first)
    expect(again.app_metadata.tenant_id).toBe('t')
    expect(Object.isFrozen(again) && Object.isFrozen(again.app_metadata)).toBe(true)
  })

  it('refuses a remembered token once it has expired', async () => {
    const { token, expiresAt } = await signAccessToken(claims, 1)
    await verifyJwt(token)
    await new Promise((r) => setTimeout(r, expiresAt * 1000 - Date.now() + 50))
    await expect(verifyJwt(token)).rejects.toThrow()
  })

  it('refuses a token differing from a remembered one in its signature or payload', async () => {
    const { token } = await signAccessToken(claims, 60)
    await verifyJwt(token)
    const [h, p, s] = token.split('.')
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1)
    await expect(verifyJwt(`${h}.${p}.${flipped}`)).rejects.toThrow()
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), app_metadata: { tenant_id: 'other' } })).toString('base64url')
    await expect(verifyJwt(`${h}.${other}.${s}`)).rejects.toThrow()
  })
})
