import crypto from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { Db, Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { enqueueJob, type JobContext } from '#app/jobs/jobs.server.ts'
import { checkCallbackUrl } from './address.server.ts'
import { newId, seal, unseal } from './secrets.server.ts'

/*
  Signed webhooks, Stripe-style. A delivery is a row of public.webhook_deliveries (the body fixed once, the secret
  sealed beside it) and one job (`marketplace.webhook`) whose every attempt is a row of public.webhook_attempts. Each
  attempt signs afresh:

    HotDash-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

  so a receiver checks the HMAC over the exact bytes it received and refuses a timestamp outside its replay window
  (verifyWebhookSignature). A non-2xx answer, a redirect (never followed), a timeout or a refused address is a failed
  attempt; pg-boss retries with exponential backoff until the attempts run out. The URL passes the SSRF rules when it
  is enqueued and again before every attempt, and the request goes to the address that was checked.
*/

export const SIGNATURE_HEADER = 'HotDash-Signature'
export const WEBHOOK_JOB = 'marketplace.webhook'
/** Attempts in all (the first and its retries); the delay doubles from retryDelaySeconds. */
export const WEBHOOK_MAX_ATTEMPTS = Math.max(1, Math.min(20, Number(process.env.HD_WEBHOOK_MAX_ATTEMPTS) || 8))
export const WEBHOOK_RETRY_DELAY_SECONDS = Math.max(1, Number(process.env.HD_WEBHOOK_RETRY_DELAY_SECONDS) || 30)
const ATTEMPT_TIMEOUT_MS = 10_000

export interface WebhookRequest {
  /** Whose webhook it is: the subscriber of a batch callback, the provider of a deployment notification. */
  tenantId: string
  url: string
  secret: string
  /** `batch.completed`, `deployment.step` … */
  event: string
  /** The event's data: the body is `{ id, event, created_at, data }`. */
  payload: unknown
  /** What it is about (`batch_…`, `deploy_…`): deliveries are listed by it. */
  subject: string
  /** The request field the URL came from, named in a 400 when it is refused (default `callback_url`). */
  field?: string
}

export interface EnqueuedWebhook {
  delivery_id: number
  event_id: string
  job_id: string
}

/** `t=<unix>,v1=<hex>` for a body at a time: the HotDash-Signature header's value. */
export function signWebhook(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const v1 = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
  return `t=${timestamp},v1=${v1}`
}

export type WebhookVerdict = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'signature' | 'replay' }

/**
 * For receivers: whether `header` (HotDash-Signature) signs `body` (the raw bytes received) with `secret`, at a
 * timestamp within `toleranceSec` of now (default 300 s). Any one of several `v1=` values may match (secret rotation).
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Buffer,
  opts: { toleranceSec?: number; now?: number } = {},
): WebhookVerdict {
  if (!header) return { ok: false, reason: 'malformed' }
  let t: number | null = null
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2)
    if (k === 't' && /^\d{1,12}$/.test(v ?? '')) t = Number(v)
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? '')) signatures.push(v)
  }
  if (t === null || !signatures.length) return { ok: false, reason: 'malformed' }
  const expected = crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest()
  const match = signatures.some((s) => crypto.timingSafeEqual(Buffer.from(s, 'hex'), expected))
  if (!match) return { ok: false, reason: 'signature' }
  const now = opts.now ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - t) > (opts.toleranceSec ?? 300)) return { ok: false, reason: 'replay' }
  return { ok: true, timestamp: t }
}

const bound = (tenantId: string, eventId: string) => `webhook:${tenantId}:${eventId}`
const isDb = (sql: Sql | Db): sql is Db => typeof (sql as Db).transaction === 'function'

/**
 * Records a signed delivery and enqueues its job. `sql` runs as the server (getDb() or one of its transactions: pass
 * the transaction that writes the event's own rows, so both commit together). The URL is checked first: a refused
 * one is a 400 naming `field`, and nothing is written.
 */
export async function enqueueWebhook(sql: Sql | Db, w: WebhookRequest): Promise<EnqueuedWebhook> {
  const checked = await checkCallbackUrl(w.url, w.field ?? 'callback_url')
  if (isDb(sql)) return sql.transaction((tx) => insertDelivery(tx, w, checked.url.href))
  return insertDelivery(sql, w, checked.url.href)
}

async function insertDelivery(tx: Sql, w: WebhookRequest, url: string): Promise<EnqueuedWebhook> {
  const eventId = newId('evt')
  const body = JSON.stringify({ id: eventId, event: w.event, created_at: new Date().toISOString(), data: w.payload ?? null })
  const { rows } = await tx.query<{ id: number }>(
    `insert into public.webhook_deliveries (tenant_id, subject, event, url, body, event_id, secret, next_attempt_at)
     values ($1, $2, $3, $4, $5, $6, $7, now()) returning id`,
    [w.tenantId, w.subject, w.event, url, body, eventId, seal(w.secret, bound(w.tenantId, eventId))],
  )
  const job = await enqueueJob(tx, WEBHOOK_JOB, { deliveryId: rows[0].id }, { tenantId: w.tenantId })
  return { delivery_id: rows[0].id, event_id: eventId, job_id: job.id }
}

interface DeliveryRow {
  id: number
  tenant_id: string
  event: string
  event_id: string
  url: string
  body: string
  secret: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
}

/** A failed attempt the job retries (pg-boss's backoff); the message carries no URL, header or secret. */
class AttemptFailed extends Error {}

/** The `marketplace.webhook` job: one attempt. Registered in jobs.server.ts. */
export async function deliverWebhook(data: { deliveryId: number }, ctx: Pick<JobContext, 'signal'>) {
  const db = await getDb()
  const { rows } = await db.query<DeliveryRow>(
    `select id, tenant_id, event, event_id, url, body, secret, status, attempts from public.webhook_deliveries where id = $1`,
    [data.deliveryId],
  )
  const d = rows[0]
  if (!d || d.status !== 'pending') return { delivery_id: data.deliveryId, status: d?.status ?? 'gone' }
  const attempt = d.attempts + 1
  const started = performance.now()
  let statusCode: number | null = null
  let error: string | null = null
  let permanent = false
  try {
    const target = await checkCallbackUrl(d.url, 'url').catch((e: unknown) => {
      permanent = true
      throw new AttemptFailed(e instanceof ApiError ? `refused target: ${String((e.details as { reason?: string })?.reason ?? e.message)}` : 'refused target')
    })
    const body = d.body
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'HotDash-Webhooks/1',
      'hotdash-event': d.event,
      'hotdash-delivery': d.event_id,
      [SIGNATURE_HEADER.toLowerCase()]: signWebhook(unseal<string>(d.secret, bound(d.tenant_id, d.event_id)), body),
    }
    statusCode = await post(target, headers, body, ctx.signal)
    if (statusCode < 200 || statusCode >= 300) error = `the receiver answered ${statusCode}`
  } catch (e) {
    if (ctx.signal.aborted) throw e
    error = e instanceof AttemptFailed ? e.message : `no answer: ${(e as Error)?.message ?? String(e)}`.slice(0, 500)
  }
  const duration = performance.now() - started
  const delivered = error === null
  const last = !delivered && (permanent || attempt >= WEBHOOK_MAX_ATTEMPTS)
  const status = delivered ? 'delivered' : last ? 'failed' : 'pending'
  // the earliest time of the next attempt: pg-boss waits retryDelay × 2^(attempt − 1), plus up to as much again
  const nextIn = WEBHOOK_RETRY_DELAY_SECONDS * 2 ** (attempt - 1)
  await db.transaction(async (tx) => {
    await tx.query(
      `insert into public.webhook_attempts (delivery_id, attempt, tenant_id, status_code, error, duration_ms) values ($1, $2, $3, $4, $5, $6)`,
      [d.id, attempt, d.tenant_id, statusCode, error, Math.round(duration * 100) / 100],
    )
    await tx.query(
      `update public.webhook_deliveries set attempts = $2, status = $3, last_status_code = $4, last_error = $5,
         delivered_at = case when $3 = 'delivered' then now() end,
         next_attempt_at = case when $3 = 'pending' then now() + make_interval(secs => $6) end
       where id = $1`,
      [d.id, attempt, status, statusCode, error, nextIn],
    )
  })
  // pending: pg-boss retries after its backoff; out of attempts: the job fails as the delivery did
  if (status === 'pending' || (status === 'failed' && !permanent)) throw new AttemptFailed(`attempt ${attempt} of ${WEBHOOK_MAX_ATTEMPTS}: ${error}`)
  // a refused address is not retried: the delivery and the job's result say so
  return { delivery_id: d.id, status, attempts: attempt, status_code: statusCode }
}

/** POSTs to the checked address (no second lookup), never following a redirect; resolves with the status code. */
function post(target: { url: URL; address: string; family: 4 | 6 }, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  const lookup: LookupFunction = (_host, opts, cb) => {
    if (opts.all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }])
    else cb(null, target.address, target.family)
  }
  const lib = target.url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target.url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, signal, timeout: ATTEMPT_TIMEOUT_MS },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`)))
    req.on('error', reject)
    req.end(body)
  })
}

export interface DeliveryView {
  delivery_id: number
  event_id: string
  event: string
  url: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: { attempt: number; status_code: number | null; error: string | null; duration_ms: number; attempted_at: string }[]
  last_status_code: number | null
  last_error: string | null
  next_attempt_at: string | null
  delivered_at: string | null
  created_at: string
}

/** The deliveries about one subject with their attempts (no body, no secret); `sql` as the caller: RLS decides. */
export async function webhookDeliveries(sql: Sql, subject: string): Promise<DeliveryView[]> {
  const { rows } = await sql.query<DeliveryView>(
    `select d.id as delivery_id, d.event_id, d.event, d.url, d.status, d.last_status_code, d.last_error,
            to_char(d.next_attempt_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as next_attempt_at,
            to_char(d.delivered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as delivered_at,
            to_char(d.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as created_at,
            coalesce((select jsonb_agg(jsonb_build_object('attempt', a.attempt, 'status_code', a.status_code, 'error', a.error, 'duration_ms', a.duration_ms,
                        'attempted_at', to_char(a.attempted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) order by a.attempt)
                        from public.webhook_attempts a where a.delivery_id = d.id), '[]'::jsonb) as attempts
       from public.webhook_deliveries d where d.subject = $1 order by d.id`,
    [subject],
  )
  return rows
}
