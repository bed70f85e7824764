import { createServerClient, parseCookieHeader, serializeCookieHeader } from '@supabase/ssr'
import { getEnv } from '#app/env.server.ts'

/**
 * Supabase Auth's browser session, kept in Supabase's own cookies by @supabase/ssr: reading it refreshes an
 * expired access token and queues the new cookies on `headers`.
 */
export function supabaseServerClient(request: Request, headers: Headers) {
  const env = getEnv()
  return createServerClient(env.SUPABASE_URL!, env.SUPABASE_ANON_KEY ?? env.SUPABASE_SERVICE_ROLE_KEY!, {
    cookies: {
      getAll: () => parseCookieHeader(request.headers.get('cookie') ?? '').map((c) => ({ name: c.name, value: c.value ?? '' })),
      setAll: (cookies) => {
        for (const { name, value, options } of cookies) headers.append('Set-Cookie', serializeCookieHeader(name, value, options))
      },
    },
  })
}

/** The session's access token (refreshed if needed), or null. Verification happens locally afterwards. */
export async function supabaseAccessToken(request: Request, headers: Headers): Promise<string | null> {
  const { data } = await supabaseServerClient(request, headers).auth.getSession()
  return data.session?.access_token ?? null
}

export async function supabaseSignIn(request: Request, headers: Headers, email: string, password: string) {
  const { data, error } = await supabaseServerClient(request, headers).auth.signInWithPassword({ email, password })
  return error ? null : data.session
}

export async function supabaseSignOut(request: Request, headers: Headers) {
  await supabaseServerClient(request, headers).auth.signOut()
}
