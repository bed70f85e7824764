import type { Sql } from '#app/db/db.server.ts'
import { clientIp } from '#app/http/client-address.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { guardFailures } from '#app/http/rate-limit.server.ts'
import { exchangeClientCredentials } from './api-keys.server.ts'
import { getAuthProvider, type TokenSet } from './provider.server.ts'

/*
  The credential exchanges of the public auth routes. Each sits behind the brute-force guard: 10 failures per
  (subject, IP) in 15 minutes lock that pair out (429, even with the right secret), 100 per IP lock the IP out;
  a success clears the pair's failures. `db` runs as anon (the api() wrapper's Sql for public routes).
*/

export async function login(request: Request, db: Sql, username: string, password: string): Promise<TokenSet> {
  const ip = clientIp(request)
  return guardFailures(
    `login:${username.toLowerCase()}:${ip}`,
    () => getAuthProvider().signIn(db, username, password, request.headers.get('user-agent') ?? undefined),
    () => new ApiError(401, 'AUTH_REQUIRED', 'Incorrect username or password'),
    ip,
  )
}

export async function refreshTokens(request: Request, db: Sql, refreshToken: string): Promise<TokenSet> {
  const ip = clientIp(request)
  return guardFailures(
    `refresh:${ip}`,
    () => getAuthProvider().refresh(db, refreshToken),
    () => new ApiError(401, 'AUTH_REQUIRED', 'Invalid refresh token'),
    ip,
  )
}

export async function logout(db: Sql, refreshToken: string) {
  await getAuthProvider().signOut(db, refreshToken)
  return { status: 'success', message: 'Logged out' }
}

export async function issueApiKey(request: Request, db: Sql, input: Parameters<typeof exchangeClientCredentials>[1]) {
  const ip = clientIp(request)
  return guardFailures(
    `apikey:${input.client_id}:${ip}`,
    () => exchangeClientCredentials(db, input),
    () => new ApiError(401, 'AUTH_REQUIRED', 'Invalid client credentials'),
    ip,
  )
}
