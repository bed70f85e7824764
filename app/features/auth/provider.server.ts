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
  signIn(db: Db, login: string, password: string, userAgent?: string): Promise<TokenSet | null>
  refresh(db: Db, refreshToken: string): Promise<TokenSet>
  signOut(db: Db, refreshToken: string): Promise<void>
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

/** Finds a user by username or email, with what a token needs. Runs as the system. */
async function findLogin(db: Sql, login: string): Promise<LoginRow | undefined> {
  const { rows } = await db.query<LoginRow>(
    `select u.id as user_id, u.email, u.encrypted_password, p.tenant_id, p.username, p.is_active,
            coalesce(array(select r.name from public.user_roles ur join public.roles r on r.id = ur.role_id
                           where ur.user_id = u.id order by r.name), '{}') as roles
       from public.profiles p join auth.users u on u.id = p.user_id
      where p.username = $1 or lower(p.email) = lower($1)
      limit 1`,
    [login],
  )
  return rows[0]
}

async function loginById(db: Sql, userId: string) {
  const { rows } = await db.query<LoginRow>(
    `select u.id as user_id, u.email, null as encrypted_password, p.tenant_id, p.username, p.is_active,
            coalesce(array(select r.name from public.user_roles ur join public.roles r on r.id = ur.role_id
                           where ur.user_id = u.id order by r.name), '{}') as roles
       from public.profiles p join auth.users u on u.id = p.user_id where u.id = $1`,
    [userId],
  )
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
    return db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `insert into app.auth_sessions (user_id, user_agent) values ($1, $2) returning id`,
        [user.user_id, userAgent?.slice(0, 300) ?? null],
      )
      await tx.query(`update auth.users set last_sign_in_at = now() where id = $1`, [user.user_id])
      return issueTokens(tx, user, rows[0].id)
    })
  },

  async refresh(db, refreshToken) {
    return db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number; session_id: string; user_id: string; used: boolean; expired: boolean; revoked: boolean }>(
        `select t.id, t.session_id, s.user_id, t.used_at is not null as used, t.expires_at < now() as expired,
                s.revoked_at is not null as revoked
           from app.refresh_tokens t join app.auth_sessions s on s.id = t.session_id
          where t.token_hash = $1 for update of t`,
        [sha256(refreshToken)],
      )
      const t = rows[0]
      if (!t || t.expired || t.revoked) throw invalidRefresh()
      if (t.used) {
        // A rotated token presented again means it leaked: end the whole session.
        await tx.query(`update app.auth_sessions set revoked_at = now() where id = $1`, [t.session_id])
        return { reuse: true } as const
      }
      await tx.query(`update app.refresh_tokens set used_at = now() where id = $1`, [t.id])
      const user = await loginById(tx, t.user_id)
      if (!user?.is_active) throw invalidRefresh()
      return issueTokens(tx, user, t.session_id)
    }).then((r) => {
      if ('reuse' in r) throw invalidRefresh()
      return r
    })
  },

  async signOut(db, refreshToken) {
    const { rowCount } = await db.query(
      `update app.auth_sessions s set revoked_at = now()
         from app.refresh_tokens t
        where t.session_id = s.id and t.token_hash = $1 and s.revoked_at is null`,
      [sha256(refreshToken)],
    )
    if (!rowCount) throw invalidRefresh()
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

async function issueTokens(tx: Sql, user: LoginRow, sessionId: string): Promise<TokenSet> {
  const env = getEnv()
  const { token, expiresAt } = await signAccessToken({
    sub: user.user_id,
    role: 'authenticated',
    email: user.email,
    session_id: sessionId,
    app_metadata: { provider: 'email', tenant_id: user.tenant_id, roles: user.roles },
    user_metadata: { username: user.username },
  })
  const refresh = randomToken()
  await tx.query(
    `insert into app.refresh_tokens (session_id, token_hash, expires_at) values ($1, $2, now() + make_interval(secs => $3))`,
    [sessionId, sha256(refresh), env.REFRESH_TOKEN_TTL_SECONDS],
  )
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
