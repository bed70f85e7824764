import type { SupabaseClient } from '@supabase/supabase-js'
import type { Claims, Db, Sql } from '#app/db/db.server.ts'
import { getEnv } from '#app/env.server.ts'
import { ApiError, authRequired, forbidden } from '#app/http/errors.server.ts'
import { dummyHash, hashPassword, verifyPassword } from './password.server.ts'
import { randomToken, sha256, signAccessToken, verifyJwt } from './tokens.server.ts'

export interface TokenSet {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  expires_at: number
  refresh_token: string
}

export interface Identity {
  email: string
  password: string
  appMetadata: { tenant_id: string; roles: string[] }
  userMetadata: Record<string, unknown>
}

/** The rest of the app talks to this; it cannot tell which provider is active. */
export interface AuthProvider {
  readonly name: 'builtin' | 'supabase'
  createIdentity(sql: Sql, identity: Identity): Promise<string>
  /** The credential steps run as `anon` (the request has no caller yet): `db` is an anonymous Sql. */
  signIn(db: Sql, login: string, password: string, userAgent?: string): Promise<TokenSet | null>
  refresh(db: Sql, refreshToken: string): Promise<TokenSet>
  signOut(db: Sql, refreshToken: string): Promise<void>
  verifyAccessToken(db: Db, token: string): Promise<Claims>
  setPassword(sql: Sql, userId: string, password: string): Promise<void>
}

interface LoginRow {
  user_id: string
  email: string
  encrypted_password: string | null
  tenant_id: string
  username: string
  roles: string[]
  is_active: boolean
}

/** Finds a user by username or email, with what a token needs (app.login_identity: anon may call it, nothing more). */
async function findLogin(db: Sql, login: string): Promise<LoginRow | undefined> {
  const { rows } = await db.query<LoginRow>(`select * from app.login_identity($1)`, [login])
  return rows[0]
}

const invalidRefresh = () => new ApiError(401, 'AUTH_REQUIRED', 'Invalid, expired or revoked refresh token')

/** Users in auth.users with scrypt hashes, HS256 JWTs in Supabase's claim shape, rotating refresh tokens. */
export const builtinProvider: AuthProvider = {
  name: 'builtin',

  async createIdentity(sql, identity) {
    const { rows } = await sql.query<{ id: string }>(`select app.create_identity($1, $2, $3::jsonb, $4::jsonb) as id`, [
      identity.email,
      await hashPassword(identity.password),
      JSON.stringify(identity.appMetadata),
      JSON.stringify(identity.userMetadata),
    ])
    return rows[0].id
  },

  async signIn(db, login, password, userAgent) {
    const user = await findLogin(db, login)
    const ok = await verifyPassword(password, user?.encrypted_password ?? (await dummyHash()))
    if (!user || !ok || !user.is_active) return null
    const refresh = randomToken()
    const { rows } = await db.query<{ id: string }>(`select app.open_session($1, $2, $3, $4) as id`, [
      user.user_id,
      userAgent ?? null,
      sha256(refresh),
      getEnv().REFRESH_TOKEN_TTL_SECONDS,
    ])
    return issueTokens(user, rows[0].id, refresh)
  },

  // One statement: when a reused token ends its session, that commits even though this request is refused.
  async refresh(db, refreshToken) {
    const next = randomToken()
    const { rows } = await db.query<{ outcome: 'ok' | 'invalid' | 'reused' | 'inactive'; session_id: string } & Omit<LoginRow, 'encrypted_password' | 'is_active'>>(
      `select * from app.rotate_refresh_token($1, $2, $3)`,
      [sha256(refreshToken), sha256(next), getEnv().REFRESH_TOKEN_TTL_SECONDS],
    )
    const r = rows[0]
    if (r?.outcome !== 'ok') throw invalidRefresh()
    return issueTokens({ ...r, encrypted_password: null, is_active: true }, r.session_id, next)
  },

  async signOut(db, refreshToken) {
    const { rows } = await db.query<{ closed: boolean }>(`select app.close_session($1) as closed`, [sha256(refreshToken)])
    if (!rows[0]?.closed) throw invalidRefresh()
  },

  // Signature, expiry and audience here; that the session is still open is checked with the caller's
  // permissions in one statement (app.caller_context).
  async verifyAccessToken(_db, token) {
    const claims = await verifyJwt(token)
    if (claims.role !== 'service_role' && typeof claims.session_id !== 'string') throw authRequired('Token has no session')
    return claims
  },

  async setPassword(sql, userId, password) {
    await sql.query(`select app.set_password_hash($1, $2)`, [userId, await hashPassword(password)])
  },
}

/** An access token for the session; its refresh token is already stored (by hash) with the session. */
async function issueTokens(user: LoginRow, sessionId: string, refresh: string): Promise<TokenSet> {
  const { token, expiresAt } = await signAccessToken({
    sub: user.user_id,
    role: 'authenticated',
    email: user.email,
    session_id: sessionId,
    app_metadata: { provider: 'email', tenant_id: user.tenant_id, roles: user.roles },
    user_metadata: { username: user.username },
  })
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: expiresAt - Math.floor(Date.now() / 1000),
    expires_at: expiresAt,
    refresh_token: refresh,
  }
}

/** Supabase Auth (GoTrue) through supabase-js; tokens still verified locally. */
async function supabaseProvider(): Promise<AuthProvider> {
  const env = getEnv()
  // Loaded only when Supabase is configured (it also warns on Node 20 at import time).
  const { createClient } = await import('@supabase/supabase-js')
  const admin: SupabaseClient = createClient(env.SUPABASE_URL!, env.SUPABASE_SERVICE_ROLE_KEY!, {
    auth: { persistSession: false, autoRefreshToken: false },
  })
  const anonClient = () =>
    createClient(env.SUPABASE_URL!, env.SUPABASE_ANON_KEY ?? env.SUPABASE_SERVICE_ROLE_KEY!, {
      auth: { persistSession: false, autoRefreshToken: false },
    })
  const toTokens = (s: { access_token: string; refresh_token: string; expires_in: number; expires_at?: number }): TokenSet => ({
    access_token: s.access_token,
    refresh_token: s.refresh_token,
    token_type: 'bearer',
    expires_in: s.expires_in,
    expires_at: s.expires_at ?? Math.floor(Date.now() / 1000) + s.expires_in,
  })
  return {
    name: 'supabase',
    async createIdentity(sql, identity) {
      const { rows } = await sql.query<{ ok: boolean; tenant: string | null; role: string | null }>(
        `select app.has_permission('users.write') as ok, app.tenant_id()::text as tenant, auth.role() as role`,
      )
      const who = rows[0]
      if (who.role === 'authenticated' && (!who.ok || who.tenant !== identity.appMetadata.tenant_id)) {
        throw forbidden('Creating users needs users.write in that tenant')
      }
      const { data, error } = await admin.auth.admin.createUser({
        email: identity.email,
        password: identity.password,
        email_confirm: true,
        app_metadata: identity.appMetadata,
        user_metadata: identity.userMetadata,
      })
      if (error || !data.user) throw new ApiError(400, 'VALIDATION_ERROR', error?.message ?? 'could not create user')
      return data.user.id
    },
    async signIn(db, login, password) {
      const user = await findLogin(db, login)
      if (!user?.is_active) return null
      const { data, error } = await anonClient().auth.signInWithPassword({ email: user.email, password })
      return error || !data.session ? null : toTokens(data.session)
    },
    async refresh(_db, refreshToken) {
      const { data, error } = await anonClient().auth.refreshSession({ refresh_token: refreshToken })
      if (error || !data.session) throw invalidRefresh()
      return toTokens(data.session)
    },
    async signOut(_db, refreshToken) {
      const { data, error } = await anonClient().auth.refreshSession({ refresh_token: refreshToken })
      if (error || !data.session) throw invalidRefresh()
      await admin.auth.admin.signOut(data.session.access_token, 'local')
    },
    async verifyAccessToken(_db, token) {
      return verifyJwt(token)
    },
    async setPassword(sql, userId, password) {
      const { rows } = await sql.query<{ ok: boolean }>(
        `select (auth.role() is distinct from 'authenticated' or auth.uid() = $1::uuid
                 or (app.has_permission('users.write') and exists (select 1 from public.profiles where user_id = $1::uuid))) as ok`,
        [userId],
      )
      if (!rows[0]?.ok) throw forbidden('Resetting another user\'s password needs users.write in their tenant')
      const { error } = await admin.auth.admin.updateUserById(userId, { password })
      if (error) throw new ApiError(400, 'VALIDATION_ERROR', error.message)
    },
  }
}

// Chosen once at boot (Supabase's is async to set up): on globalThis the choice survives Vite re-running this module after an edit in dev (decision 005).
const g = globalThis as { __hotdashAuth?: AuthProvider }

export function getAuthProvider(): AuthProvider {
  if (g.__hotdashAuth) return g.__hotdashAuth
  const env = getEnv()
  if (env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY) throw new Error('Supabase auth not initialised: call initAuthProvider() at boot')
  g.__hotdashAuth = builtinProvider
  return g.__hotdashAuth
}

/** Chooses the provider once at boot: Supabase Auth when configured, else the built-in one. */
export async function initAuthProvider(): Promise<AuthProvider> {
  const env = getEnv()
  g.__hotdashAuth ??= env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY ? await supabaseProvider() : builtinProvider
  return g.__hotdashAuth
}
