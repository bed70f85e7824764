import { getDb } from '#app/db/index.server.ts'
import { clientIp } from '#app/http/api-route.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { consumeRateLimit, resetRateLimit } from '#app/http/rate-limit.server.ts'
import { getAuthProvider, type TokenSet } from './provider.server.ts'

/**
 * Password login with a brute-force guard per (username, IP): the `auth` class allows a few failures per window;
 * a success clears them.
 */
export async function login(request: Request, username: string, password: string): Promise<TokenSet> {
  const key = `login:${username.toLowerCase()}:${clientIp(request)}`
  const tokens = await getAuthProvider().signIn(await getDb(), username, password, request.headers.get('user-agent') ?? undefined)
  if (!tokens) {
    await consumeRateLimit('auth', key)
    throw new ApiError(401, 'AUTH_REQUIRED', 'Incorrect username or password')
  }
  await resetRateLimit('auth', key)
  return tokens
}
