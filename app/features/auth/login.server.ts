import { getDb } from '#app/db/index.server.ts'
import { clientIp } from '#app/http/api-route.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { guardFailures } from '#app/http/rate-limit.server.ts'
import { getAuthProvider, type TokenSet } from './provider.server.ts'

/**
 * Password login behind the brute-force guard: after 10 failures per (username, IP) in 15 minutes the pair is
 * locked out (429, even with the right password) until the window passes; a success clears the failures.
 */
export async function login(request: Request, username: string, password: string): Promise<TokenSet> {
  const key = `login:${username.toLowerCase()}:${clientIp(request)}`
  const db = await getDb()
  return guardFailures(
    key,
    () => getAuthProvider().signIn(db, username, password, request.headers.get('user-agent') ?? undefined),
    () => new ApiError(401, 'AUTH_REQUIRED', 'Incorrect username or password'),
  )
}
