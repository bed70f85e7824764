import crypto from 'node:crypto'
import { z } from 'zod'
import { asCaller, scopedTo, type Db, type Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { authenticateRequest, type Caller, callerChanged, getSessionCaller, verifyCsrf } from '#app/features/auth/auth.server.ts'
import { limitBody, MAX_BODY_BYTES, readBody } from './body.server.ts'
import { clientIp } from './client-address.server.ts'
import { ApiError, authRequired, databaseDetail, errorBody, forbidden, fromDatabase, fromZod } from './errors.server.ts'
import { logRequest, logError } from './log.server.ts'
import { assertUnderLimit, consumeRateLimit, countFailure, type RateClass } from './rate-limit.server.ts'
import { readCache, readCacheEtag, readCacheKey, type ReadCacheSource } from './read-cache.server.ts'
import { textResponse } from './text-response.server.ts'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface Cache {
  /** seconds the client may reuse the response */
  maxAge: number
  staleWhileRevalidate?: number
  /**
   * Serve GETs from the server's read cache while this source's version holds (app/http/read-cache.server.ts): the
   * handler's answer must depend on nothing but the tenant, the parsed query and params, and that version. The ETag
   * is then the version's, so If-None-Match is a 304 without running the handler.
   */
  server?: ReadCacheSource
}

export interface HandlerContext<Q, B, P> {
  request: Request
  requestId: string
  /** The caller's database: a transaction running as them (RLS applies). */
  db: Sql
  caller: Caller
  query: Q
  body: B
  params: P
  /** Headers to add to the response (e.g. Content-Disposition). */
  headers: Headers
}

type AnySchema = z.ZodType
/** A schema, or none (the handler then gets `undefined` for that input). */
type MaybeSchema = AnySchema | undefined
type Parsed<S extends MaybeSchema> = S extends AnySchema ? z.output<S> : undefined

export interface ApiDefinition<QS extends MaybeSchema = undefined, BS extends MaybeSchema = undefined, PS extends MaybeSchema = undefined> {
  summary: string
  description?: string
  tags?: string[]
  /**
   * 'required' (default): a bearer token, API key or session cookie; 'none' for public routes like login and health;
   * 'session' for a browser page's own endpoint: the session cookie, refreshed as pages refresh it, CSRF checked.
   */
  auth?: 'required' | 'none' | 'session'
  /** The permission the caller needs; omit for "any authenticated caller". */
  permission?: string
  /** Only these kinds of caller: e.g. ['service_role'] or ['admin'] roles handled by the feature. */
  rateLimit?: RateClass
  cache?: Cache
  query?: QS
  /** JSON body by default; `bodyType: 'form'` parses urlencoded/multipart forms into an object first. */
  body?: BS
  bodyType?: 'json' | 'form' | 'raw'
  /** Bytes the body may have, counted as it arrives (413 past it): MAX_BODY_BYTES unless said; raw bodies must say. */
  maxBodyBytes?: number
  params?: PS
  /** HTTP status of a success; 200 unless said. */
  status?: number
  /** Run the handler in one caller transaction (default) or let it open its own (long or streaming work). */
  transaction?: boolean
  /** Documented success response schema for OpenAPI (optional). */
  response?: AnySchema
  /** Gets `query`, `body` and `params` as this definition's own schemas parse them. */
  handler: (ctx: HandlerContext<Parsed<QS>, Parsed<BS>, Parsed<PS>>) => unknown
}

/**
 * A definition with its schemas' types erased, as dispatch and the OpenAPI builder hold it. Any typed
 * definition is assignable to it (a handler that accepts its own context accepts `never`).
 */
export type ErasedDefinition = Omit<ApiDefinition<MaybeSchema, MaybeSchema, MaybeSchema>, 'handler'> & {
  handler: (ctx: HandlerContext<never, never, never>) => unknown
}

export type RouteArgs = { request: Request; params: Record<string, string | undefined>; context?: unknown }
type RouteFn = (args: RouteArgs) => Promise<Response>

/**
 * Declares one route module's API: `export const { loader, action } = api({ GET: {...}, POST: {...} })`.
 * Every request goes through the same steps: authenticate → rate-limit → parse input → run → respond.
 * Each method's `query`, `body` and `params` are typed from that method's own schemas: one type parameter
 * per method and input, because TypeScript infers a handler's context from sibling properties of the same
 * object literal but not through a mapped type over the methods.
 */
export type ApiDefinitions = Partial<Record<Method, ErasedDefinition>>
export type ApiRouteFn = RouteFn & { definitions: ApiDefinitions }

export function api<
  GQ extends MaybeSchema = undefined, GB extends MaybeSchema = undefined, GP extends MaybeSchema = undefined,
  PoQ extends MaybeSchema = undefined, PoB extends MaybeSchema = undefined, PoP extends MaybeSchema = undefined,
  PuQ extends MaybeSchema = undefined, PuB extends MaybeSchema = undefined, PuP extends MaybeSchema = undefined,
  PaQ extends MaybeSchema = undefined, PaB extends MaybeSchema = undefined, PaP extends MaybeSchema = undefined,
  DQ extends MaybeSchema = undefined, DB extends MaybeSchema = undefined, DP extends MaybeSchema = undefined,
>(defs: {
  GET?: ApiDefinition<GQ, GB, GP>
  POST?: ApiDefinition<PoQ, PoB, PoP>
  PUT?: ApiDefinition<PuQ, PuB, PuP>
  PATCH?: ApiDefinition<PaQ, PaB, PaP>
  DELETE?: ApiDefinition<DQ, DB, DP>
}): { loader: ApiRouteFn; action: ApiRouteFn } {
  return route(defs)
}

function route(defs: ApiDefinitions): { loader: ApiRouteFn; action: ApiRouteFn } {
  const methods = Object.keys(defs) as Method[]
  const dispatch: RouteFn = async (args) => {
    const method = args.request.method.toUpperCase() as Method
    const def = defs[method] ?? (method === ('HEAD' as Method) ? defs.GET : undefined)
    if (!def) {
      const requestId = requestIdOf(args.request)
      const err = new ApiError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`, { allowed: methods })
      logRequest({ request_id: requestId, method, path: new URL(args.request.url).pathname, user_id: null, tenant_id: null, status_code: 405, response_time_ms: 0, cache_hit: false })
      return json(errorBody(err, requestId), err.status, { Allow: methods.join(', '), 'X-Request-Id': requestId, 'X-API-Version': '1' })
    }
    return handle(def, args)
  }
  // The OpenAPI builder reads the definitions back from the route module's exports.
  const fn = Object.assign(dispatch, { definitions: defs })
  return { loader: fn, action: fn }
}

/** Any path under /api/ no route claims, whatever the method: the JSON envelope, not the app's HTML 404 page. */
export const endpointNotFound: RouteFn = async ({ request }) => {
  const requestId = requestIdOf(request)
  const err = new ApiError(404, 'NOT_FOUND', 'Endpoint not found')
  logRequest({ request_id: requestId, method: request.method, path: new URL(request.url).pathname, user_id: null, tenant_id: null, status_code: 404, response_time_ms: 0, cache_hit: false })
  return json(errorBody(err, requestId), 404, { 'X-Request-Id': requestId, 'X-API-Version': '1', 'Cache-Control': 'no-store' })
}

/** If-None-Match may list several tags, or be `*`; weak comparison as RFC 9110 prescribes for GET. */
function etagMatches(header: string | null, etag: string) {
  if (!header) return false
  const bare = (t: string) => t.trim().replace(/^W\//, '')
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag))
}

function requestIdOf(request: Request) {
  const given = request.headers.get('x-request-id')
  return given && /^[\w.-]{8,128}$/.test(given) ? given : crypto.randomUUID()
}

function json(body: unknown, status: number, headers: Record<string, string> | Headers = {}) {
  const h = new Headers(headers)
  h.set('Content-Type', 'application/json; charset=utf-8')
  return textResponse(JSON.stringify(body), status, h)
}


async function handle(def: ErasedDefinition, { request, params }: RouteArgs): Promise<Response> {
  const started = performance.now()
  const requestId = requestIdOf(request)
  const url = new URL(request.url)
  const headers = new Headers({ 'X-API-Version': '1', 'X-Request-Id': requestId })
  let caller: Caller | null = null
  let status = 500
  let cacheHit = false
  try {
    const db = await getDb()
    // Public routes (login, health) do not look at credentials at all.
    if (def.auth === 'session') {
      const session = await getSessionCaller(request)
      for (const c of session.headers.getSetCookie()) headers.append('Set-Cookie', c)
      caller = session.caller
      if (!caller) throw authRequired()
    } else if (def.auth !== 'none') {
      caller = await authenticateWithGuard(request, db)
      if (!caller) throw authRequired()
    }
    if (caller?.via === 'cookie' && !['GET', 'HEAD'].includes(request.method)) {
      // A raw body is the handler's to stream: reading a form field for the token would buffer all of it first.
      if (def.bodyType === 'raw' && !request.headers.get('x-csrf-token')) {
        throw new ApiError(403, 'FORBIDDEN', 'Missing or invalid CSRF token: send it in the X-CSRF-Token header', { field: 'csrf' })
      }
      await verifyCsrf(request, caller)
    }
    const limit = await consumeRateLimit(def.rateLimit ?? 'default', rateKey(caller, request))
    for (const [k, v] of Object.entries(limit.headers)) headers.set(k, v)
    if (def.auth !== 'none' && def.permission && !caller!.permissions.has(def.permission)) {
      throw forbidden(`This needs the '${def.permission}' permission`, { permission: def.permission })
    }
    const query = parse(def.query, queryObject(url), 'query')
    const routeParams = parse(def.params, params, 'params')
    const bodyType = def.bodyType ?? 'json'
    const body = def.body && bodyType !== 'raw' ? parse(def.body, await readBody(request, bodyType, def.maxBodyBytes), bodyType === 'form' ? 'form' : 'body') : undefined
    // A raw body is the handler's to stream: it reads it through a counter that stops at the route's limit.
    const input = bodyType === 'raw' ? limitBody(request, def.maxBodyBytes ?? MAX_BODY_BYTES) : request

    // The schemas above produced these values, so they are what the definition's handler was typed for.
    const ctx = (sql: Sql) => ({ request: input, requestId, db: sql, caller: caller!, query, body, params: routeParams, headers }) as HandlerContext<never, never, never>
    const run = async (sql: Sql) => def.handler(ctx(sql))
    const runAsCaller = () => asCaller(db, caller!.claims, run)

    if (caller) {
      headers.set('Vary', 'Authorization, Cookie')
      headers.set(
        'Cache-Control',
        def.cache
          ? `private, max-age=${def.cache.maxAge}${def.cache.staleWhileRevalidate ? `, stale-while-revalidate=${def.cache.staleWhileRevalidate}` : ''}`
          : 'private, no-store',
      )
    } else if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store')

    // Server read cache: only after authentication, rate limit, permission and input checks have passed.
    const source = def.cache?.server
    const version = source && caller && (request.method === 'GET' || request.method === 'HEAD') ? await source.version(db) : null
    if (source && version !== null) {
      const key = readCacheKey(def, source, caller!, { query, params: routeParams })
      const etag = readCacheEtag(source, version, key)
      headers.set('ETag', etag)
      if (etagMatches(request.headers.get('if-none-match'), etag)) {
        cacheHit = true
        status = 304
        headers.set('X-Cache', 'revalidated')
        return new Response(null, { status, headers })
      }
      const cache = readCache()
      let text = cache.get(key, version)
      cacheHit = text !== undefined
      if (text === undefined) {
        // Computed across a refresh or an hour boundary, the entry is filed under the old version, which no later
        // lookup asks for (versions only move forward).
        text = (await cache.load(key, version, async () => JSON.stringify(await runAsCaller()))).text
      }
      status = 200
      headers.set('X-Cache', cacheHit ? 'hit' : 'miss')
      headers.set('Content-Type', 'application/json; charset=utf-8')
      return textResponse(request.method === 'HEAD' ? null : text, status, headers)
    }

    let result: unknown
    // Public routes (login, health) run as `anon`, a statement at a time: they can reach only what anon is granted.
    if (def.auth === 'none') result = await run(scopedTo(db, null))
    else if (def.transaction === false) result = await run(callerScoped(db, caller!))
    else result = await runAsCaller()

    if (result instanceof Response) {
      for (const [k, v] of headers) if (!result.headers.has(k)) result.headers.set(k, v)
      status = result.status
      return result
    }
    status = def.status ?? 200
    if (result === undefined || status === 204) {
      status = status === 200 ? 204 : status
      return new Response(null, { status, headers })
    }
    const text = JSON.stringify(result)
    if (def.cache && (request.method === 'GET' || request.method === 'HEAD')) {
      const etag = `W/"${crypto.createHash('sha1').update(text).digest('base64url')}"`
      headers.set('ETag', etag)
      if (etagMatches(request.headers.get('if-none-match'), etag)) {
        cacheHit = true
        status = 304
        return new Response(null, { status, headers })
      }
    }
    headers.set('Content-Type', 'application/json; charset=utf-8')
    return textResponse(request.method === 'HEAD' ? null : text, status, headers)
  } catch (err) {
    const apiErr = toApiError(err)
    status = apiErr.status
    const dbDetail = databaseDetail(err)
    if (status >= 500 || dbDetail) {
      logError(err, { level: status >= 500 ? 'error' : 'warn', request_id: requestId, path: url.pathname, user_id: caller?.userId, ...dbDetail })
    }
    for (const [k, v] of Object.entries(apiErr.headers)) headers.set(k, v)
    headers.set('Cache-Control', 'no-store')
    return json(errorBody(apiErr, requestId), apiErr.status, headers)
  } finally {
    // A write may have changed who can do what (roles, users, sessions, keys): drop what this process remembers of
    // the tenant's callers before the client can send its next request (the NOTIFY reaches the other processes).
    if (status < 400 && request.method !== 'GET' && request.method !== 'HEAD') callerChanged(await getDb(), caller?.tenantId ?? null)
    logRequest({
      request_id: requestId,
      method: request.method,
      path: url.pathname,
      user_id: caller?.userId ?? null,
      tenant_id: caller?.tenantId ?? null,
      status_code: status,
      response_time_ms: Math.round((performance.now() - started) * 100) / 100,
      cache_hit: cacheHit,
    })
  }
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof z.ZodError) return fromZod(err, 'body')
  const db = fromDatabase(err)
  if (db) return db
  if ((err as { code?: string })?.code?.match?.(/^[0-9A-Z]{5}$/)) {
    return new ApiError(500, 'DATABASE_ERROR', 'The database could not complete the request')
  }
  return new ApiError(500, 'INTERNAL_ERROR', 'Unexpected server error')
}

function rateKey(caller: Caller | null, request: Request) {
  if (!caller) return `ip:${clientIp(request)}`
  // Service tokens share one subject, so their budget is per tenant.
  if (caller.kind === 'service') return `service:${caller.tenantId}`
  return `${caller.kind}:${caller.apiKeyId ?? caller.userId}`
}

/** Credentials that fail to verify count against the client's IP, so guessing keys or tokens is throttled. */
async function authenticateWithGuard(request: Request, db: Db) {
  if (!request.headers.has('authorization')) return authenticateRequest(request, db)
  const key = `authfail:${clientIp(request)}`
  await assertUnderLimit('auth_ip', key)
  try {
    return await authenticateRequest(request, db)
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) await countFailure('auth_ip', key)
    throw e
  }
}


function parse<S extends AnySchema | undefined>(schema: S, value: unknown, where: 'query' | 'body' | 'params' | 'form') {
  if (!schema) return undefined
  const r = schema.safeParse(value)
  if (!r.success) throw fromZod(r.error, where)
  return r.data
}

function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key)
    out[key] = all.length > 1 ? all : all[0]
  }
  return out
}

/** A Sql that opens a short caller transaction per statement, for handlers that manage their own work. */
export function callerScoped(db: Db, caller: Caller): Sql {
  return scopedTo(db, caller.claims)
}
