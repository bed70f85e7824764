import type { Claims, Db } from '#app/db/db.server.ts'
import { ApiError, authRequired } from '#app/http/errors.server.ts'
import { API_KEY_PREFIX, verifyApiKey } from './api-keys.server.ts'
import { callerCache } from './caller-cache.server.ts'
import { getAuthProvider } from './provider.server.ts'
import { readSessionCookies } from './cookies.server.ts'

/** Who is calling, however they authenticated. */
export interface Caller {
  kind: 'user' | 'api_key' | 'service'
  via: 'bearer' | 'cookie' | 'api_key'
  userId: string
  tenantId: string
  email?: string
  roles: string[]
  permissions: Set<string>
  claims: Claims
  apiKeyId?: string
  sessionId?: string
}

/**
 * Resolves the caller of a request: `Authorization: Bearer <api key | JWT>` first, then the session cookie.
 * No credentials → null. Credentials that do not verify → 401, never a silent anonymous request.
 */
export async function authenticateRequest(request: Request, db: Db): Promise<Caller | null> {
  const header = request.headers.get('authorization')
  // The same credentials answer the same checks while nothing they depend on has changed (caller-cache.server.ts).
  const cache = callerCache(db)
  const cookieToken = header ? undefined : readSessionCookies(request).accessToken
  const key = header
    ? `h|${header}|${request.headers.get('x-tenant-id') ?? ''}|${request.headers.get('x-wia-client-id') ?? ''}`
    : cookieToken
      ? `c|${cookieToken}`
      : null
  if (cache && key) {
    const known = cache.get(key)
    if (known) return known
  }
  const caller = await resolveCaller(request, db, header, cookieToken)
  if (cache && key && caller) cache.set(key, caller, expiresAt(caller))
  return caller
}

/** When the credentials themselves stop being valid: the token's exp, or an API key's expires_at. */
function expiresAt(caller: Caller) {
  return typeof caller.claims.exp === 'number' ? caller.claims.exp * 1000 : 0
}

async function resolveCaller(request: Request, db: Db, header: string | null, accessToken: string | undefined): Promise<Caller | null> {
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header.trim())
    if (!m) throw authRequired('Authorization header must be "Bearer <token>"')
    const token = m[1]
    if (token.startsWith(API_KEY_PREFIX)) {
      const claims = await verifyApiKey(db, token, request.headers.get('x-wia-client-id'))
      return withPermissions(db, claims, 'api_key', 'api_key')
    }
    const claims = await getAuthProvider()
      .verifyAccessToken(db, token)
      .catch((e) => {
        throw e instanceof ApiError ? e : authRequired('Invalid or expired token')
      })
    return withPermissions(db, serviceTenant(claims, request), claims.role === 'service_role' ? 'service' : 'user', 'bearer')
  }
  if (accessToken) {
    const claims = await getAuthProvider()
      .verifyAccessToken(db, accessToken)
      .catch(() => null)
    if (claims) return withPermissions(db, claims, 'user', 'cookie')
  }
  return null
}

/** A service_role token without a tenant acts for the tenant named in X-Tenant-Id. */
function serviceTenant(claims: Claims, request: Request): Claims {
  if (claims.role !== 'service_role' || claims.app_metadata?.tenant_id) return claims
  const tenant = request.headers.get('x-tenant-id')
  if (!tenant || !/^[0-9a-f-]{36}$/i.test(tenant)) {
    throw new ApiError(400, 'VALIDATION_ERROR', 'X-Tenant-Id: a service_role token needs the tenant to act for', {
      fields: [{ field: 'X-Tenant-Id', message: 'required for service_role tokens' }],
    })
  }
  return { ...claims, sub: claims.sub ?? '00000000-0000-0000-0000-000000000000', app_metadata: { ...claims.app_metadata, tenant_id: tenant } }
}

/** Loads the caller's effective permissions and checks profile, tenant and session in one statement. */
async function withPermissions(db: Db, claims: Claims, kind: Caller['kind'], via: Caller['via']): Promise<Caller> {
  const tenantId = claims.app_metadata?.tenant_id
  if (!tenantId) throw authRequired('Token carries no tenant')
  // Built-in sessions can be revoked (logout, password change); Supabase's are checked by Supabase on refresh.
  const sessionId = getAuthProvider().name === 'builtin' && kind === 'user' && typeof claims.session_id === 'string' ? claims.session_id : null
  const { rows } = await db.query<{ permissions: string[]; active: boolean | null; tenant_ok: boolean; session_ok: boolean }>(
    `select * from app.caller_context($1::jsonb, $2::uuid)`,
    [JSON.stringify(claims), sessionId],
  )
  const r = rows[0]
  if (!r.tenant_ok) throw authRequired('Unknown tenant')
  if (!r.session_ok) throw authRequired('Session has ended')
  if (kind !== 'service' && !r.active) throw authRequired('User is inactive or not in this tenant')
  return {
    kind,
    via,
    userId: claims.sub,
    tenantId,
    email: claims.email,
    roles: (claims.app_metadata?.roles as string[] | undefined) ?? (kind === 'service' ? ['service_role'] : []),
    permissions: new Set(r.permissions),
    claims,
    apiKeyId: claims.app_metadata?.api_key_id,
    sessionId: typeof claims.session_id === 'string' ? claims.session_id : undefined,
  }
}
