import { redirect } from 'react-router'
import type { Route } from './+types/logout'

export async function loader() {
  return redirect('/')
}

/** Ends the session server-side (refresh token family revoked), then clears the cookies. */
export async function action({ request }: Route.ActionArgs) {
  const { getDb } = await import('#app/db/index.server.ts')
  const { clearSessionCookies, readSessionCookies } = await import('#app/features/auth/cookies.server.ts')
  const { getAuthProvider } = await import('#app/features/auth/provider.server.ts')
  const { refreshToken } = readSessionCookies(request)
  if (refreshToken) await getAuthProvider().signOut(await getDb(), refreshToken).catch(() => {})
  const headers = new Headers()
  for (const c of clearSessionCookies()) headers.append('Set-Cookie', c)
  return redirect('/login', { headers })
}
