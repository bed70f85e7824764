import { getEnv } from '#app/env.server.ts'
import type { TokenSet } from './provider.server.ts'

export const ACCESS_COOKIE = 'hd_at'
export const REFRESH_COOKIE = 'hd_rt'

export function parseCookies(header: string | null): Record<string, string> {
  const out: Record<string, string> = {}
  if (!header) return out
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    const k = part.slice(0, i).trim()
    if (!(k in out)) out[k] = decodeURIComponent(part.slice(i + 1).trim())
  }
  return out
}

export function readSessionCookies(request: Request) {
  const c = parseCookies(request.headers.get('cookie'))
  return { accessToken: c[ACCESS_COOKIE], refreshToken: c[REFRESH_COOKIE] }
}

function cookie(name: string, value: string, maxAge: number) {
  const secure = getEnv().NODE_ENV === 'production' ? '; Secure' : ''
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`
}

/** Set-Cookie headers for a new session: access token (short) and refresh token (long), both httpOnly. */
export function sessionCookies(tokens: TokenSet): string[] {
  return [
    cookie(ACCESS_COOKIE, tokens.access_token, Math.max(60, tokens.expires_in)),
    cookie(REFRESH_COOKIE, tokens.refresh_token, getEnv().REFRESH_TOKEN_TTL_SECONDS),
  ]
}

export function clearSessionCookies(): string[] {
  return [cookie(ACCESS_COOKIE, '', 0), cookie(REFRESH_COOKIE, '', 0)]
}
