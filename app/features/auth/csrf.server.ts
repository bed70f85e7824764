import crypto from 'node:crypto'
import { readFormData } from '#app/http/body.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import type { Caller } from './caller.server.ts'
import { signingKey } from './tokens.server.ts'

/** A token bound to the session: HMAC of the session id, so it cannot be forged or reused across sessions. */
export function csrfToken(caller: Pick<Caller, 'sessionId' | 'userId'>): string {
  return crypto
    .createHmac('sha256', signingKey())
    .update(`csrf:${caller.sessionId ?? caller.userId}`)
    .digest('base64url')
}

const refused = () => new ApiError(403, 'FORBIDDEN', 'Missing or invalid CSRF token', { field: 'csrf' })

/**
 * Cookie-authenticated mutations must carry the token in `X-CSRF-Token` or a `csrf` form field.
 * (Bearer-token requests are not exposed to CSRF and skip this.)
 */
export async function verifyCsrf(request: Request, caller: Caller): Promise<void> {
  const expected = csrfToken(caller)
  let given = request.headers.get('x-csrf-token')
  if (!given) {
    const type = request.headers.get('content-type') ?? ''
    if (type.includes('form')) {
      const form = await readFormData(request.clone()).catch((e) => {
        if (e instanceof ApiError && e.status === 413) throw e
        return null
      })
      const v = form?.get('csrf')
      given = typeof v === 'string' ? v : null
    }
  }
  if (!given || given.length !== expected.length) throw refused()
  if (!crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) throw refused()
}
