import { scopedTo, type Claims, type Db, type Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { ApiError, authRequired, badRequest, notFound } from '#app/http/errors.server.ts'
import { hashPassword, verifyPassword, dummyHash } from './password.server.ts'
import { randomToken, sha256 } from './tokens.server.ts'

export const API_KEY_PREFIX = 'hd_sk_'
const CLIENT_ID_PREFIX = 'hdc_'
const DEFAULT_KEY_TTL_DAYS = 90

export interface ApiClientRow {
  id: string
  name: string
  client_id: string
  allowed_scopes: string[]
  created_at: Date
  revoked_at: Date | null
}

/**
 * Registers an API client for the caller's tenant. The secret is returned once and stored as a scrypt hash.
 * Scopes must be permissions the registering admin holds.
 */
export async function registerApiClient(
  sql: Sql,
  caller: { tenantId: string; userId: string; permissions: Set<string> },
  input: { name: string; scopes: string[] },
) {
  const missing = input.scopes.filter((s) => !caller.permissions.has(s))
  if (missing.length) throw badRequest('scopes', `you cannot grant scopes you do not hold: ${missing.join(', ')}`)
  const clientId = CLIENT_ID_PREFIX + randomToken(12)
  const secret = randomToken(32)
  const { rows } = await sql.query<ApiClientRow>(
    `insert into public.api_clients (tenant_id, name, client_id, secret_hash, allowed_scopes, created_by)
     values ($1, $2, $3, $4, $5::text[], $6)
     returning id, name, client_id, allowed_scopes, created_at, revoked_at`,
    [caller.tenantId, input.name, clientId, await hashPassword(secret), input.scopes, caller.userId],
  )
  return { ...rows[0], client_secret: secret }
}

export async function listApiClients(sql: Sql) {
  const { rows } = await sql.query(
    `select c.id, c.name, c.client_id, c.allowed_scopes, c.created_at, c.revoked_at,
            coalesce(json_agg(json_build_object('id', k.id, 'prefix', k.prefix, 'scopes', k.scopes,
              'expires_at', k.expires_at, 'revoked_at', k.revoked_at, 'last_used_at', k.last_used_at,
              'created_at', k.created_at) order by k.created_at desc) filter (where k.id is not null), '[]') as keys
       from public.api_clients c left join public.api_keys k on k.api_client_id = c.id
      group by c.id order by c.created_at desc`,
  )
  return rows
}

export async function revokeApiClient(sql: Sql, id: string) {
  const { rows } = await sql.query(
    `update public.api_clients set revoked_at = coalesce(revoked_at, now()) where id = $1 returning id, revoked_at`,
    [id],
  )
  if (!rows.length) throw notFound('API client', id)
  await sql.query(`update public.api_keys set revoked_at = coalesce(revoked_at, now()) where api_client_id = $1`, [id])
  return rows[0]
}

export async function revokeApiKey(sql: Sql, id: string) {
  const { rows } = await sql.query(
    `update public.api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning id, revoked_at`,
    [id],
  )
  if (!rows.length) throw notFound('API key', id)
  return rows[0]
}

const badClient = () => new ApiError(401, 'AUTH_REQUIRED', 'Invalid client_id or client_secret')

/**
 * The AS spec's `POST /auth/apikey`: client credentials → a scoped API key, shown once, stored as SHA-256.
 * Runs as anon (the client is not a logged-in user), through the two app functions anon may call.
 */
export async function exchangeClientCredentials(
  db: Sql,
  input: { client_id: string; client_secret: string; scope?: string[]; expires_in_days?: number },
) {
  const { rows } = await db.query<{ id: string; tenant_id: string; secret_hash: string; allowed_scopes: string[]; revoked: boolean }>(
    `select * from app.api_client_credentials($1)`,
    [input.client_id],
  )
  const client = rows[0]
  const ok = await verifyPassword(input.client_secret, client?.secret_hash ?? (await dummyHash()))
  if (!client || !ok || client.revoked) throw badClient()
  const scopes = input.scope?.length ? input.scope : client.allowed_scopes
  const notAllowed = scopes.filter((s) => !client.allowed_scopes.includes(s))
  if (notAllowed.length) {
    throw new ApiError(403, 'FORBIDDEN', `Scopes not allowed for this client: ${notAllowed.join(', ')}`, {
      field: 'scope',
      allowed: client.allowed_scopes,
    })
  }
  const key = API_KEY_PREFIX + randomToken(32)
  const days = input.expires_in_days ?? DEFAULT_KEY_TTL_DAYS
  const { rows: created } = await db.query<{ id: string; expires_at: Date }>(`select * from app.issue_api_key($1, $2, $3, $4::text[], $5)`, [
    client.id,
    key.slice(0, API_KEY_PREFIX.length + 6),
    sha256(key),
    scopes,
    days,
  ])
  return {
    status: 'success',
    api_key: key,
    key_id: created[0].id,
    token_type: 'bearer',
    scope: scopes,
    expires_at: created[0].expires_at,
  }
}

/** Checks a presented key (hash lookup, not revoked, not expired, client active) and returns the caller's claims. */
export async function verifyApiKey(db: Db, key: string, clientIdHeader: string | null): Promise<Claims> {
  const { rows } = await db.query<{
    id: string
    tenant_id: string
    scopes: string[]
    created_by: string | null
    client_id: string
    valid: boolean
    stale: boolean
    exp: number
  }>(
    `select k.id, k.tenant_id, k.scopes, c.created_by, c.client_id, floor(extract(epoch from k.expires_at))::int8 as exp,
            (k.revoked_at is null and c.revoked_at is null and k.expires_at > now()) as valid,
            (k.last_used_at is null or k.last_used_at < now() - interval '1 minute') as stale
       from public.api_keys k join public.api_clients c on c.id = k.api_client_id
      where k.key_hash = $1`,
    [sha256(key)],
  )
  const k = rows[0]
  if (!k || !k.valid) throw authRequired('Invalid, expired or revoked API key')
  if (clientIdHeader && clientIdHeader !== k.client_id) throw authRequired('X-WIA-Client-ID does not match the API key')
  if (k.stale) await db.query(`update public.api_keys set last_used_at = now() where id = $1`, [k.id])
  return {
    sub: k.created_by ?? k.id,
    role: 'authenticated',
    aud: 'authenticated',
    // the key's own expiry, as a token's exp: nothing that remembers this caller may outlive it
    exp: k.exp,
    app_metadata: { tenant_id: k.tenant_id, scopes: k.scopes, api_key_id: k.id, roles: [] },
  }
}

/**
 * The admin page's "register and issue a key now": the key is exchanged only after the client row is committed,
 * exactly as the client itself would exchange its credentials. Call it outside the registering transaction.
 */
export async function issueFirstKey(client: { client_id: string; client_secret: string }) {
  return exchangeClientCredentials(scopedTo(await getDb(), null), { client_id: client.client_id, client_secret: client.client_secret })
}
