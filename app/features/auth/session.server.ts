import { redirect } from 'react-router'
import { getDb } from '#app/db/index.server.ts'
import { forbidden } from '#app/http/errors.server.ts'
import { authenticateRequest, type Caller } from './caller.server.ts'
import { clearSessionCookies, readSessionCookies, sessionCookies } from './cookies.server.ts'
import { getAuthProvider } from './provider.server.ts'

/** The browser session's caller, or null. Refreshes an expired access token from the refresh cookie. */
export async function getSessionCaller(request: Request): Promise<{ caller: Caller | null; headers: Headers }> {
  const headers = new Headers()
  const db = await getDb()
  const { accessToken, refreshToken } = readSessionCookies(request)
  const cookieOnly = new Request(request.url, { headers: { cookie: request.headers.get('cookie') ?? '' } })
  if (accessToken) {
    const caller = await authenticateRequest(cookieOnly, db).catch(() => null)
    if (caller) return { caller, headers }
  }
  if (!refreshToken) return { caller: null, headers }
  try {
    const tokens = await getAuthProvider().refresh(db, refreshToken)
    for (const c of sessionCookies(tokens)) headers.append('Set-Cookie', c)
    const fresh = new Request(request.url, { headers: { cookie: `hd_at=${tokens.access_token}` } })
    return { caller: await authenticateRequest(fresh, db), headers }
  } catch {
    for (const c of clearSessionCookies()) headers.append('Set-Cookie', c)
    return { caller: null, headers }
  }
}

/** For UI loaders and actions: the caller, or a redirect to the login page. */
export async function requireCaller(request: Request, permission?: string) {
  const { caller, headers } = await getSessionCaller(request)
  if (!caller) {
    const url = new URL(request.url)
    const to = `${url.pathname}${url.search}`
    throw redirect(`/login?redirectTo=${encodeURIComponent(to)}`, { headers })
  }
  if (permission && !caller.permissions.has(permission)) {
    throw new Response(JSON.stringify({ message: `This page needs the '${permission}' permission` }), {
      status: 403,
      statusText: forbidden().message,
      headers,
    })
  }
  return { caller, headers }
}
