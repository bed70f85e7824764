import type { Sql } from '#app/db/db.server.ts'
import { badRequest } from '#app/http/errors.server.ts'
import type { Aggregation } from './windows.ts'
import type { StreamAnalytics, StreamSource } from './schemas.ts'
import { aggMerge, aggValues, foldBatch, parseDuration, robustZ, type StreamEvent, type WindowAgg, type WindowSpec, type Sketch } from './windows.ts'

/*
  One batch of events → the stream's windows, in the caller's transaction and as the server (no API role writes
  windows). The stream's row is locked first, so batches of one stream apply one at a time whichever process or
  consumer brings them; what a source must commit with the batch (its offsets, the ids it applied) goes through
  the same transaction, so a batch is in the windows exactly when its offsets are.
*/

export interface StreamRow {
  id: string
  tenant_id: string
  name: string
  source: StreamSource & { stream_key?: string; subject?: string }
  analytics: StreamAnalytics
  status: 'running' | 'stopped'
  /** newest event time seen, ms */
  max_event_ms: number | null
  version: number
  events_processed: number
  late_events: number
  invalid_events: number
  anomalies_detected: number
  latency_ms_sum: number
  created_at: Date | string
  last_updated: Date | string
}

export const STREAM_COLUMNS = `s.id, s.tenant_id, s.name, s.source, s.analytics, s.status,
  (extract(epoch from s.watermark) * 1000)::float8 as max_event_ms, s.version, s.events_processed, s.late_events,
  s.invalid_events, s.anomalies_detected, s.latency_ms_sum, s.created_at, s.last_updated`

export function windowSpec(a: StreamAnalytics): WindowSpec {
  const sizeMs = parseDuration(a.window)!
  const slideMs = a.type === 'sliding' && a.slide ? parseDuration(a.slide)! : sizeMs
  return { sizeMs, slideMs, latenessMs: parseDuration(a.allowed_lateness) ?? 0 }
}

const needsValue = (a: StreamAnalytics) => a.aggregations.some((x) => x !== 'count')
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/

/**
 * Reads raw events into (time, value, key). With `strict` (the http source) the first bad event is a 400 naming
 * `events[i].<field>`; otherwise (a broker's message) it is skipped and counted as invalid.
 */
export function parseEvents(raw: readonly unknown[], a: StreamAnalytics, strict: boolean): { events: (StreamEvent | null)[]; invalid: number } {
  const valued = needsValue(a)
  const events: (StreamEvent | null)[] = []
  let invalid = 0
  for (let i = 0; i < raw.length; i++) {
    const e = parseOne(raw[i], a, valued)
    if (typeof e === 'string') {
      if (strict) throw badRequest(`events[${i}]${e.startsWith('.') ? '' : '.'}${e.split(': ')[0]}`, e.split(': ').slice(1).join(': ') || 'is invalid')
      invalid++
      events.push(null)
    } else events.push(e)
  }
  return { events, invalid }
}

function parseOne(r: unknown, a: StreamAnalytics, valued: boolean): StreamEvent | string {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return ': must be an object'
  const o = r as Record<string, unknown>
  const tv = o[a.time_field]
  let t: number
  if (typeof tv === 'number' && Number.isFinite(tv) && tv > 0 && tv < 1e14) t = tv
  else if (typeof tv === 'string' && ISO.test(tv) && Number.isFinite(Date.parse(tv))) t = Date.parse(tv)
  else return `${a.time_field}: must be the event time (epoch milliseconds or an ISO-8601 timestamp with a zone)`
  let value: number | null = null
  if (valued) {
    const v = o[a.value_field]
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${a.value_field}: must be a finite number`
    value = v
  }
  let key = ''
  if (a.group_by.length) {
    const parts: (string | number | boolean)[] = []
    for (const g of a.group_by) {
      const v = o[g]
      if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return `${g}: must be a string, number or boolean (a group_by field)`
      if (typeof v === 'string' && v.length > 200) return `${g}: must be at most 200 characters`
      parts.push(v)
    }
    key = JSON.stringify(parts)
  }
  return { t: Math.floor(t), value, key }
}

export interface WindowView {
  window_start: string
  window_end: string
  /** group_by field → value; null without group_by */
  key: Record<string, unknown> | null
  series_key: string
  closed: boolean
  version: number
  values: Partial<Record<Aggregation, number | null>>
}

export interface AnomalyView {
  window_start: string
  window_end: string
  key: Record<string, unknown> | null
  series_key: string
  aggregation: Aggregation
  value: number
  median: number
  mad: number
  z_score: number | null
  history_size: number
}

interface WindowRowIn {
  start_ms: number
  end_ms: number
  series_key: string
  count: number
  valued: number
  sum: number
  min: number | null
  max: number | null
  sketch: Sketch
  closed: boolean
  version: number
}

export const keyObject = (a: StreamAnalytics, seriesKey: string): Record<string, unknown> | null => {
  if (!a.group_by.length || !seriesKey) return null
  const values = JSON.parse(seriesKey) as unknown[]
  return Object.fromEntries(a.group_by.map((g, i) => [g, values[i]]))
}

const aggOf = (r: Pick<WindowRowIn, 'count' | 'valued' | 'sum' | 'min' | 'max' | 'sketch'>): WindowAgg => ({
  count: Number(r.count),
  valued: Number(r.valued),
  sum: Number(r.sum),
  min: r.min === null ? null : Number(r.min),
  max: r.max === null ? null : Number(r.max),
  sketch: r.sketch,
})

export function windowView(a: StreamAnalytics, r: WindowRowIn): WindowView {
  return {
    window_start: new Date(r.start_ms).toISOString(),
    window_end: new Date(r.end_ms).toISOString(),
    key: keyObject(a, r.series_key),
    series_key: r.series_key,
    closed: r.closed,
    version: Number(r.version),
    values: aggValues(aggOf(r), a.aggregations),
  }
}

export const WINDOW_COLUMNS = `(extract(epoch from w.window_start) * 1000)::float8 as start_ms, (extract(epoch from w.window_end) * 1000)::float8 as end_ms,
  w.series_key, w.count, w.valued, w.sum, w.min, w.max, w.sketch, w.closed, w.version`

export interface AppliedBatch {
  stream: StreamRow
  version: number
  accepted: number
  late: number
  duplicates: number
  windows: WindowView[]
  anomalies: AnomalyView[]
}

export interface BatchInput {
  /** parsed events; null for ones that did not parse (counted as invalid) */
  events: (StreamEvent | null)[]
  /** when each event entered the system (ms): latency is commit time minus this */
  ingestMs: number | number[]
  /** message ids to apply at most once (Redis entry ids, JetStream sequences), one per event */
  messageIds?: [number, number][]
  /** written in the same transaction (a Kafka consumer's offsets) */
  commit?: (tx: Sql) => Promise<void>
}

/** Applies a batch to a stream as the server role, in tx. The caller commits; then it may ack and publish. */
export async function applyBatch(tx: Sql, streamId: string, input: BatchInput): Promise<AppliedBatch | null> {
  const { rows: srows } = await tx.query<StreamRow>(`select ${STREAM_COLUMNS} from public.streams s where s.id = $1 for update`, [streamId])
  const stream = srows[0]
  if (!stream) return null
  const a = stream.analytics
  const spec = windowSpec(a)

  // Redelivered messages that were already applied (a crash between our commit and the broker's ack) are skipped.
  let keep: boolean[] = input.events.map(() => true)
  let duplicates = 0
  if (input.messageIds?.length) {
    const { rows } = await tx.query<{ i: number }>(
      `with m as (select * from jsonb_to_recordset($2::jsonb) as r(i int, hi bigint, lo bigint)),
            ins as (insert into public.stream_applied (stream_id, msg_hi, msg_lo) select $1, hi, lo from m on conflict do nothing returning msg_hi, msg_lo)
       select m.i from m join ins on ins.msg_hi = m.hi and ins.msg_lo = m.lo`,
      [streamId, JSON.stringify(input.messageIds.map(([hi, lo], i) => ({ i, hi, lo })))],
    )
    keep = input.events.map(() => false)
    for (const r of rows) keep[r.i] = true
    duplicates = keep.filter((k) => !k).length
  }
  const events: StreamEvent[] = []
  const ingest: number[] = []
  let invalid = 0
  input.events.forEach((e, i) => {
    if (!keep[i]) return
    if (e === null) invalid++
    else {
      events.push(e)
      ingest.push(Array.isArray(input.ingestMs) ? input.ingestMs[i] : input.ingestMs)
    }
  })

  const fold = foldBatch(events, spec, stream.max_event_ms)
  const version = Number(stream.version) + 1
  const changed: WindowRowIn[] = []
  if (fold.deltas.size) {
    const deltas = [...fold.deltas.values()]
    const { rows: existing } = await tx.query<WindowRowIn>(
      `select ${WINDOW_COLUMNS} from public.stream_windows w
        join jsonb_to_recordset($2::jsonb) as k(s float8, k text) on w.window_start = to_timestamp(k.s / 1000.0) and w.series_key = k.k
       where w.stream_id = $1`,
      [streamId, JSON.stringify(deltas.map((d) => ({ s: d.start, k: d.key })))],
    )
    const byId = new Map(existing.map((r) => [`${Number(r.start_ms)}|${r.series_key}`, r]))
    for (const d of deltas) {
      const old = byId.get(`${d.start}|${d.key}`)
      const agg = old ? aggOf(old) : d.agg
      if (old) aggMerge(agg, d.agg)
      changed.push({ start_ms: d.start, end_ms: d.start + spec.sizeMs, series_key: d.key, ...agg, closed: false, version })
    }
    await tx.query(
      `insert into public.stream_windows as w (stream_id, tenant_id, window_start, window_end, series_key, count, valued, sum, min, max, sketch, version, updated_at)
       select $1, $2, to_timestamp(r.s / 1000.0), to_timestamp(r.e / 1000.0), r.k, r.c, r.v, r.sm, r.mn, r.mx, r.sk, $3, now()
         from jsonb_to_recordset($4::jsonb) as r(s float8, e float8, k text, c bigint, v bigint, sm float8, mn float8, mx float8, sk jsonb)
       on conflict (stream_id, window_start, series_key) do update
         set count = excluded.count, valued = excluded.valued, sum = excluded.sum, min = excluded.min, max = excluded.max,
             sketch = excluded.sketch, version = excluded.version, updated_at = excluded.updated_at`,
      [
        streamId,
        stream.tenant_id,
        version,
        JSON.stringify(changed.map((c) => ({ s: c.start_ms, e: c.end_ms, k: c.series_key, c: c.count, v: c.valued, sm: c.sum, mn: c.min, mx: c.max, sk: c.sketch }))),
      ],
    )
  }

  // Windows the watermark has passed close; each closed window is scored against its series' recent closed windows.
  const anomalies: AnomalyView[] = []
  const watermark = fold.maxEventTime === null ? null : fold.maxEventTime - spec.latenessMs
  if (watermark !== null) {
    const { rows: closing } = await tx.query<WindowRowIn>(
      `update public.stream_windows w set closed = true, version = $3
        where w.stream_id = $1 and not w.closed and w.window_end <= to_timestamp($2 / 1000.0)
       returning ${WINDOW_COLUMNS}`,
      [streamId, watermark, version],
    )
    closing.sort((x, y) => Number(x.start_ms) - Number(y.start_ms))
    for (const c of closing) {
      const i = changed.findIndex((w) => w.start_ms === Number(c.start_ms) && w.series_key === c.series_key)
      if (i >= 0) changed[i] = { ...changed[i], closed: true }
      else changed.push(c)
    }
    if (a.anomaly.enabled && closing.length) anomalies.push(...(await scoreClosed(tx, stream, closing)))
  }

  const now = Date.now()
  const latency = ingest.reduce((s, t) => s + Math.max(0, now - t), 0)
  const consumed = fold.accepted + fold.late
  await tx.query(
    `update public.streams set watermark = coalesce(to_timestamp($2 / 1000.0), watermark), version = $3,
            events_processed = events_processed + $4, late_events = late_events + $5, invalid_events = invalid_events + $6,
            anomalies_detected = anomalies_detected + $7, latency_ms_sum = latency_ms_sum + $8, last_updated = now()
      where id = $1`,
    [streamId, fold.maxEventTime, version, consumed, fold.late, invalid, anomalies.length, latency],
  )
  if (consumed) {
    await tx.query(
      `insert into public.stream_throughput as t (stream_id, bucket, events, latency_ms_sum) values ($1, $2, $3, $4)
       on conflict (stream_id, bucket) do update set events = t.events + excluded.events, latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum`,
      [streamId, Math.floor(now / 10_000), consumed, latency],
    )
  }
  if (input.commit) await input.commit(tx)
  const updated: StreamRow = {
    ...stream,
    max_event_ms: fold.maxEventTime,
    version,
    events_processed: Number(stream.events_processed) + consumed,
    late_events: Number(stream.late_events) + fold.late,
    invalid_events: Number(stream.invalid_events) + invalid,
    anomalies_detected: Number(stream.anomalies_detected) + anomalies.length,
    latency_ms_sum: Number(stream.latency_ms_sum) + latency,
  }
  return { stream: updated, version, accepted: fold.accepted, late: fold.late, duplicates, windows: changed.map((w) => windowView(a, w)), anomalies }
}

/** Robust z-score of each closing window's detector value against the previous closed windows of its series. */
async function scoreClosed(tx: Sql, stream: StreamRow, closing: WindowRowIn[]): Promise<AnomalyView[]> {
  const a = stream.analytics
  const det = a.anomaly
  const which: Aggregation = det.aggregation ?? (a.aggregations.includes('sum') ? 'sum' : a.aggregations[0])
  const keys = [...new Set(closing.map((c) => c.series_key))]
  const perKey = new Map<string, number>()
  for (const c of closing) perKey.set(c.series_key, (perKey.get(c.series_key) ?? 0) + 1)
  const depth = det.history + Math.max(...perKey.values())
  const { rows: hist } = await tx.query<WindowRowIn>(
    `select * from (
       select ${WINDOW_COLUMNS}, row_number() over (partition by w.series_key order by w.window_start desc) as rn
         from public.stream_windows w
        where w.stream_id = $1 and w.closed and w.series_key in (select jsonb_array_elements_text($2::jsonb))
     ) h where h.rn <= $3`,
    [stream.id, JSON.stringify(keys), depth],
  )
  const valueOf = (r: WindowRowIn) => aggValues(aggOf(r), [which])[which] ?? null
  const out: AnomalyView[] = []
  for (const c of closing) {
    const x = valueOf(c)
    if (x === null) continue
    const history = hist
      .filter((h) => h.series_key === c.series_key && Number(h.start_ms) < Number(c.start_ms))
      .sort((p, q) => Number(q.start_ms) - Number(p.start_ms))
      .slice(0, det.history)
      .map(valueOf)
      .filter((v): v is number => v !== null)
    if (history.length < det.min_history) continue
    const score = robustZ(x, history, det.threshold)
    if (!score.anomalous) continue
    out.push({
      window_start: new Date(Number(c.start_ms)).toISOString(),
      window_end: new Date(Number(c.end_ms)).toISOString(),
      key: keyObject(a, c.series_key),
      series_key: c.series_key,
      aggregation: which,
      value: x,
      median: score.median,
      mad: score.mad,
      z_score: score.z,
      history_size: history.length,
    })
  }
  if (out.length) {
    await tx.query(
      `insert into public.stream_anomalies (stream_id, tenant_id, window_start, window_end, series_key, aggregation, value, median, mad, z_score, history_size)
       select $1, $2, to_timestamp(r.s / 1000.0), to_timestamp(r.e / 1000.0), r.k, r.ag, r.v, r.md, r.mad, r.z, r.h
         from jsonb_to_recordset($3::jsonb) as r(s float8, e float8, k text, ag text, v float8, md float8, mad float8, z float8, h int)
       on conflict (stream_id, window_start, series_key) do nothing`,
      [
        stream.id,
        stream.tenant_id,
        JSON.stringify(out.map((o) => ({ s: Date.parse(o.window_start), e: Date.parse(o.window_end), k: o.series_key, ag: o.aggregation, v: o.value, md: o.median, mad: o.mad, z: o.z_score, h: o.history_size }))),
      ],
    )
  }
  return out
}
