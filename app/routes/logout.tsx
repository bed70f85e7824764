import { redirect } from 'react-router'
import type { Route } from './+types/logout'

export async function loader() {
  return redirect('/')
}

/** Ends the session server-side (refresh token family revoked), then clears the cookies. */
export async function action({ request }: Route.ActionArgs) {
  const { endBrowserSession } = await import('#app/features/auth/auth.server.ts')
  return redirect('/login', { headers: await endBrowserSession(request) })
}
