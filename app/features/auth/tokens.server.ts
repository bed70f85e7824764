import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { SignJWT, jwtVerify, createRemoteJWKSet, type JWTPayload } from 'jose'
import type { Claims } from '#app/db/db.server.ts'
import { getEnv } from '#app/env.server.ts'

let jwtKey: Uint8Array | undefined

/**
 * The HS256 key of the built-in provider: JWT_SECRET when set; otherwise a random key kept in the
 * data dir (so dev sessions survive restarts) or, in tests, in memory.
 */
export function signingKey(): Uint8Array {
  if (jwtKey) return jwtKey
  const env = getEnv()
  let secret = env.SUPABASE_JWT_SECRET ?? env.JWT_SECRET
  if (!secret) {
    if (env.NODE_ENV === 'test') secret = crypto.randomBytes(32).toString('base64url')
    else {
      const file = path.resolve(env.DATA_DIR, 'jwt-secret')
      if (!fs.existsSync(file)) {
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { mode: 0o600 })
      }
      secret = fs.readFileSync(file, 'utf8').trim()
    }
  }
  jwtKey = new TextEncoder().encode(secret)
  return jwtKey
}

export const AUDIENCE = 'authenticated'

export async function signAccessToken(claims: Omit<Claims, 'aud'>, ttlSeconds = getEnv().ACCESS_TOKEN_TTL_SECONDS) {
  const now = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({ ...claims, aud: AUDIENCE } as JWTPayload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(getEnv().JWT_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(signingKey())
  return { token, expiresAt: now + ttlSeconds }
}

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined

/** Verifies signature, expiry and audience. Supabase tokens via the project secret or its JWKS. */
export async function verifyJwt(token: string): Promise<Claims> {
  const env = getEnv()
  const opts = { audience: AUDIENCE, algorithms: ['HS256', 'RS256', 'ES256'] }
  let payload: JWTPayload
  if (env.SUPABASE_URL && !env.SUPABASE_JWT_SECRET) {
    jwks ??= createRemoteJWKSet(new URL('/auth/v1/.well-known/jwks.json', env.SUPABASE_URL))
    payload = (await jwtVerify(token, jwks, opts)).payload
  } else {
    // Our own tokens carry our issuer; Supabase's carry `${SUPABASE_URL}/auth/v1`.
    const issuer = env.SUPABASE_URL ? new URL('/auth/v1', env.SUPABASE_URL).toString() : env.JWT_ISSUER
    payload = (await jwtVerify(token, signingKey(), { ...opts, algorithms: ['HS256'], issuer })).payload
  }
  if (typeof payload.sub !== 'string' && payload.role !== 'service_role') throw new Error('token has no subject')
  return payload as unknown as Claims
}

export const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex')
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url')
