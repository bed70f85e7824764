import { redirect } from 'react-router'
import { scopedTo, type Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { forbidden } from '#app/http/errors.server.ts'
import { callerChanged } from './caller-cache.server.ts'
import { authenticateRequest, type Caller } from './caller.server.ts'
import { clearSessionCookies, readSessionCookies, sessionCookies } from './cookies.server.ts'
import { getAuthProvider } from './provider.server.ts'

type SessionResult = { caller: Caller | null; headers: Headers }

// A document request runs the root, layout and page loaders in parallel, each asking for the session: resolve it once.
const perRequest = new WeakMap<Request, Promise<SessionResult>>()
// Refresh tokens rotate and a reused one ends the session, so concurrent requests carrying the same expired
// access cookie must share one refresh instead of racing (the second would look like token theft).
const REFRESH_GRACE_MS = 30_000
const refreshes = new Map<string, { at: number; result: ReturnType<ReturnType<typeof getAuthProvider>['refresh']> }>()

function sharedRefresh(db: Sql, refreshToken: string) {
  const now = Date.now()
  for (const [k, v] of refreshes) if (now - v.at > REFRESH_GRACE_MS) refreshes.delete(k)
  let entry = refreshes.get(refreshToken)
  if (!entry) {
    entry = { at: now, result: getAuthProvider().refresh(db, refreshToken) }
    refreshes.set(refreshToken, entry)
  }
  return entry.result
}

/** The browser session's caller, or null. Refreshes an expired access token from the refresh cookie. */
export function getSessionCaller(request: Request): Promise<SessionResult> {
  let result = perRequest.get(request)
  if (!result) {
    result = resolveSession(request)
    perRequest.set(request, result)
  }
  return result
}

async function resolveSession(request: Request): Promise<SessionResult> {
  const headers = new Headers()
  const db = await getDb()
  if (getAuthProvider().name === 'supabase') {
    const { supabaseAccessToken } = await import('./supabase-session.server.ts')
    const token = await supabaseAccessToken(request, headers)
    if (!token) return { caller: null, headers }
    const bearer = new Request(request.url, { headers: { authorization: `Bearer ${token}` } })
    const caller = await authenticateRequest(bearer, db).catch(() => null)
    // The browser session still travels in cookies, so CSRF rules apply to it.
    return { caller: caller && { ...caller, via: 'cookie' }, headers }
  }
  const { accessToken, refreshToken } = readSessionCookies(request)
  const cookieOnly = new Request(request.url, { headers: { cookie: request.headers.get('cookie') ?? '' } })
  if (accessToken) {
    const caller = await authenticateRequest(cookieOnly, db).catch(() => null)
    if (caller) return { caller, headers }
  }
  if (!refreshToken) return { caller: null, headers }
  try {
    // Refreshing is a credential step: it runs as anon, like the API's refresh route.
    const tokens = await sharedRefresh(scopedTo(db, null), refreshToken)
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

/** Starts a browser session after a password login: Supabase's cookies (via @supabase/ssr) or ours. */
export async function startBrowserSession(request: Request, username: string, password: string): Promise<Headers> {
  const headers = new Headers()
  const { login } = await import('./login.server.ts')
  const anon = scopedTo(await getDb(), null)
  if (getAuthProvider().name === 'supabase') {
    const { supabaseSignIn } = await import('./supabase-session.server.ts')
    // The brute-force guard and the username → email lookup still run through login().
    await login(request, anon, username, password)
    const { rows } = await anon.query<{ email: string }>(`select email from app.login_identity($1)`, [username])
    await supabaseSignIn(request, headers, rows[0].email, password)
    return headers
  }
  const tokens = await login(request, anon, username, password)
  for (const c of sessionCookies(tokens)) headers.append('Set-Cookie', c)
  return headers
}

/** Ends the browser session server-side and clears its cookies. */
export async function endBrowserSession(request: Request): Promise<Headers> {
  const headers = new Headers()
  if (getAuthProvider().name === 'supabase') {
    const { supabaseSignOut } = await import('./supabase-session.server.ts')
    await supabaseSignOut(request, headers).catch(() => {})
    return headers
  }
  const { refreshToken } = readSessionCookies(request)
  if (refreshToken) {
    const db = await getDb()
    await getAuthProvider().signOut(scopedTo(db, null), refreshToken).catch(() => {})
    callerChanged(db, null)
  }
  for (const c of clearSessionCookies()) headers.append('Set-Cookie', c)
  return headers
}
