import crypto from 'node:crypto'
import { asCaller, type Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, badRequest, conflict } from '#app/http/errors.server.ts'
import { applyBatch, keyObject, parseEvents, STREAM_COLUMNS, WINDOW_COLUMNS, windowView, type AnomalyView, type StreamRow, type WindowView } from './apply.server.ts'
import { publishLive, type LiveUpdate } from './live.server.ts'
import type { CreateStreamBody } from './schemas.ts'
import { brokerConfig, natsSubject, redisStreamKey } from './sources/config.server.ts'

/**
 * Real-time streams (AS spec): create a stream over a source (http, Redis Streams, NATS JetStream, Kafka), window
 * and aggregate its events, detect anomalies per series, and read its windows, anomalies and metrics. Routes, the
 * Streams page and the WebSocket server call these functions.
 */

export type { StreamRow, WindowView, AnomalyView }
// The live feed (SSE and WebSocket) and the page's test events, public through this module.
export { openFeed, sseResponse } from './feed.server.ts'
export { attachStreamSockets } from './socket.server.ts'
export { sendSampleEvents } from './page.server.ts'

const elapsed = (t: number) => Math.round((performance.now() - t) * 100) / 100
const asServerRole = (tx: Sql) => tx.query(`select set_config('role', 'none', true)`)

export const streamNotFound = (id: string) => new ApiError(404, 'NOT_FOUND', 'Stream not found', { stream_id: id, field: 'stream_id' })

/** The caller's stream (RLS decides: another tenant's id is a 404 like an unknown one). */
export async function loadStream(tx: Sql, id: string): Promise<StreamRow> {
  const { rows } = await tx.query<StreamRow>(`select ${STREAM_COLUMNS} from public.streams s where s.id = $1`, [id])
  if (!rows[0]) throw streamNotFound(id)
  return rows[0]
}

/** wss://host/api/v1/stream/<id>/ws for this request's host (ws:// over plain http). */
export function websocketUrl(request: Request, id: string) {
  const u = new URL(request.url)
  const https = u.protocol === 'https:' || request.headers.get('x-forwarded-proto')?.split(',')[0].trim() === 'https'
  return `${https ? 'wss' : 'ws'}://${u.host}/api/v1/stream/${id}/ws`
}

function sourceView(s: StreamRow['source']) {
  return s
}

export function streamView(s: StreamRow, request?: Request) {
  return {
    stream_id: s.id,
    stream_name: s.name,
    stream_status: s.status,
    source: sourceView(s.source),
    analytics: s.analytics,
    ...(request ? { websocket_url: websocketUrl(request, s.id), live_url: `/api/v1/stream/${s.id}/live` } : {}),
    events_processed: Number(s.events_processed),
    anomalies_detected: Number(s.anomalies_detected),
    watermark: s.max_event_ms === null ? null : new Date(s.max_event_ms).toISOString(),
    created_at: new Date(s.created_at).toISOString(),
    last_updated: new Date(s.last_updated).toISOString(),
  }
}

/** POST /api/v1/stream/create */
export async function createStream(tx: Sql, caller: Caller, body: CreateStreamBody, request: Request) {
  const started = performance.now()
  const id = `stream_${crypto.randomBytes(8).toString('hex')}`
  const cfg = brokerConfig()
  let source: StreamRow['source'] = body.source
  if (body.source.type === 'redis') {
    if (!cfg.redisUrl) throw badRequest('source.type', "this server has no Redis (REDIS_URL): use 'http', or set REDIS_URL")
    source = { type: 'redis', stream_key: redisStreamKey(id) }
  } else if (body.source.type === 'nats') {
    if (!cfg.natsUrl) throw badRequest('source.type', "this server has no NATS (NATS_URL): use 'http', or set NATS_URL")
    source = { type: 'nats', subject: natsSubject(id) }
  } else if (body.source.type === 'kafka') {
    if (!cfg.kafkaBrokers.length) throw badRequest('source.type', "this server has no Kafka brokers (KAFKA_BROKERS): use 'http', or set KAFKA_BROKERS")
    // The server connects only where its operator said it may: a stream cannot point it at any host.
    const brokers = body.source.brokers ?? cfg.kafkaBrokers
    const foreign = brokers.filter((b) => !cfg.kafkaBrokers.includes(b))
    if (foreign.length) throw badRequest('source.brokers', `not among this server's KAFKA_BROKERS: ${foreign.join(', ')}`, { allowed: cfg.kafkaBrokers })
    source = { type: 'kafka', topic: body.source.topic, brokers }
  }
  try {
    await tx.query(`insert into public.streams (id, name, source, analytics) values ($1, $2, $3::jsonb, $4::jsonb)`, [
      id,
      body.stream_name,
      JSON.stringify(source),
      JSON.stringify(body.analytics),
    ])
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw conflict(`A stream named '${body.stream_name}' exists`, { field: 'stream_name' })
    throw e
  }
  if (source.type === 'nats') {
    // The JetStream stream and this stream's durable consumer exist before the answer, so producers can publish at once.
    const { ensureNats } = await import('./sources/nats.server.ts')
    await ensureNats(cfg.natsUrl!, id).catch((e) => {
      throw new ApiError(502, 'INTERNAL_ERROR', `NATS did not answer: ${(e as Error).message}`, { field: 'source.type' })
    })
  }
  const s = await loadStream(tx, id)
  return {
    status: 'success' as const,
    stream_id: id,
    websocket_url: websocketUrl(request, id),
    // The spec's example repeats "status" ("success", then "active"); the stream's own state is stream_status.
    stream_status: 'active' as const,
    live_url: `/api/v1/stream/${id}/live`,
    events_url: source.type === 'http' ? `/api/v1/stream/${id}/events` : undefined,
    source: sourceView(s.source),
    analytics: s.analytics,
    created_at: new Date(s.created_at).toISOString(),
    execution_time_ms: elapsed(started),
  }
}

export async function listStreams(tx: Sql, query: { limit: number; offset: number }) {
  const { rows } = await tx.query<StreamRow & { total: number }>(
    `select ${STREAM_COLUMNS}, count(*) over () as total from public.streams s order by s.created_at desc, s.id limit $1 offset $2`,
    [query.limit, query.offset],
  )
  return { status: 'success' as const, streams: rows.map((r) => streamView(r)), total: rows[0] ? Number(rows[0].total) : 0, limit: query.limit, offset: query.offset }
}

export async function getStream(tx: Sql, id: string, request: Request) {
  return { status: 'success' as const, ...streamView(await loadStream(tx, id), request) }
}

export async function deleteStream(tx: Sql, id: string) {
  const { rowCount } = await tx.query(`delete from public.streams where id = $1`, [id])
  if (!rowCount) throw streamNotFound(id)
}

/** POST /api/v1/stream/{id}/events: the http source. The batch is in the windows when the answer is 200. */
export async function ingestEvents(caller: Caller, id: string, body: { events: Record<string, unknown>[] }) {
  const started = performance.now()
  const receivedAt = Date.now()
  const db = await getDb()
  const applied = await asCaller(db, caller.claims, async (tx) => {
    const s = await loadStream(tx, id)
    if (s.source.type !== 'http') throw conflict(`This stream reads from ${s.source.type}; events are POSTed only to http streams`, { field: 'source.type', stream_id: id })
    if (s.status !== 'running') throw conflict('This stream is stopped', { stream_id: id })
    const { events } = parseEvents(body.events, s.analytics, true)
    await asServerRole(tx)
    return applyBatch(tx, id, { events, ingestMs: receivedAt })
  })
  if (!applied) throw streamNotFound(id)
  publishLive(liveUpdateOf(applied))
  return {
    status: 'success' as const,
    stream_id: id,
    accepted: applied.accepted,
    late: applied.late,
    version: applied.version,
    windows_updated: applied.windows.length,
    anomalies: applied.anomalies,
    events_processed: applied.stream.events_processed,
    execution_time_ms: elapsed(started),
  }
}

export function liveUpdateOf(a: NonNullable<Awaited<ReturnType<typeof applyBatch>>>): LiveUpdate {
  return {
    stream_id: a.stream.id,
    version: a.version,
    windows: a.windows,
    anomalies: a.anomalies,
    metrics: {
      events_processed: a.stream.events_processed,
      late_events: a.stream.late_events,
      invalid_events: a.stream.invalid_events,
      anomalies_detected: a.stream.anomalies_detected,
      last_updated: new Date().toISOString(),
    },
  }
}

/** GET /api/v1/stream/{id}/metrics: counters, and rates over the last minute of 10-second buckets. */
export async function streamMetrics(tx: Sql, id: string) {
  const s = await loadStream(tx, id)
  await asServerRole(tx)
  const now = Date.now()
  const first = Math.floor(now / 10_000) - 5
  const { rows } = await tx.query<{ events: number | null; latency: number | null; open: number; windows: number }>(
    `select (select sum(events) from public.stream_throughput where stream_id = $1 and bucket >= $2) as events,
            (select sum(latency_ms_sum) from public.stream_throughput where stream_id = $1 and bucket >= $2) as latency,
            (select count(*) from public.stream_windows where stream_id = $1 and not closed) as open,
            (select count(*) from public.stream_windows where stream_id = $1) as windows`,
    [id, first],
  )
  const r = rows[0]
  const recent = Number(r.events ?? 0)
  const span = Math.max(1, Math.min(now - first * 10_000, now - new Date(s.created_at).getTime())) / 1000
  const total = Number(s.events_processed)
  const avgLatency = recent ? Number(r.latency) / recent : total ? Number(s.latency_ms_sum) / total : 0
  return {
    stream_id: s.id,
    status: s.status,
    metrics: {
      events_processed: total,
      events_per_second: Math.round((recent / span) * 100) / 100,
      avg_latency_ms: Math.round(avgLatency * 100) / 100,
      anomalies_detected: Number(s.anomalies_detected),
      late_events: Number(s.late_events),
      invalid_events: Number(s.invalid_events),
      open_windows: Number(r.open),
      windows: Number(r.windows),
      watermark: s.max_event_ms === null ? null : new Date(s.max_event_ms - (parseDurationMs(s.analytics.allowed_lateness))).toISOString(),
    },
    last_updated: new Date(s.last_updated).toISOString(),
  }
}

function parseDurationMs(text: string) {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim())
  if (!m) return 0
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as Record<string, number>)[m[2] ?? 's']
}

/** GET /api/v1/stream/{id}/windows: the newest windows first (or those since a time), for charts and CSV. */
export async function streamWindows(tx: Sql, id: string, q: { since?: string; key?: string; limit: number; after_version?: number }) {
  const s = await loadStream(tx, id)
  const { rows } = await tx.query(
    `select ${WINDOW_COLUMNS} from public.stream_windows w
      where w.stream_id = $1 and ($2::timestamptz is null or w.window_start >= $2::timestamptz) and ($3::text is null or w.series_key = $3)
        and ($5::bigint is null or w.version > $5)
      order by w.window_start desc, w.series_key limit $4`,
    [id, q.since ?? null, q.key ?? null, q.limit, q.after_version ?? null],
  )
  return {
    status: 'success' as const,
    stream_id: id,
    aggregations: s.analytics.aggregations,
    group_by: s.analytics.group_by,
    version: Number(s.version),
    windows: rows.map((r) => windowView(s.analytics, r as Parameters<typeof windowView>[1])).reverse(),
  }
}

export async function streamAnomalies(tx: Sql, id: string, q: { limit: number }) {
  const s = await loadStream(tx, id)
  const { rows } = await tx.query(
    `select (extract(epoch from window_start) * 1000)::float8 as s, (extract(epoch from window_end) * 1000)::float8 as e, series_key, aggregation, value,
            median, mad, z_score, history_size, detected_at
       from public.stream_anomalies where stream_id = $1 order by window_start desc, id desc limit $2`,
    [id, q.limit],
  )
  return {
    status: 'success' as const,
    stream_id: id,
    anomalies: rows.map((r) => ({
      window_start: new Date(Number(r.s)).toISOString(),
      window_end: new Date(Number(r.e)).toISOString(),
      key: keyObject(s.analytics, r.series_key),
      series_key: r.series_key,
      aggregation: r.aggregation,
      value: Number(r.value),
      median: Number(r.median),
      mad: Number(r.mad),
      z_score: r.z_score === null ? null : Number(r.z_score),
      history_size: Number(r.history_size),
      detected_at: new Date(r.detected_at).toISOString(),
    })),
  }
}
