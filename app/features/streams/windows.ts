/*
  Window math for the streams area: durations, tumbling/sliding window assignment, mergeable per-window aggregates
  (count, sum, min, max and a relative-error quantile sketch for p95), event time with bounded lateness, and the robust
  z-score the anomaly detector uses. No database: streams.server.ts persists what these compute.
*/

export const AGGREGATIONS = ['count', 'sum', 'avg', 'min', 'max', 'p95'] as const
export type Aggregation = (typeof AGGREGATIONS)[number]

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `500ms`, `30s`, `5m`, `1h`, `1d` → milliseconds; null when it is not a positive duration. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim())
  if (!m) return null
  const ms = Number(m[1]) * UNIT_MS[m[2]]
  return Number.isFinite(ms) && ms >= 1 && Number.isInteger(ms) ? ms : null
}

export interface WindowSpec {
  /** window length */
  sizeMs: number
  /** distance between window starts: sizeMs for tumbling windows, less for sliding ones */
  slideMs: number
  /** how far behind the newest event time an event may still arrive */
  latenessMs: number
}

/** Starts of every window holding event time t: windows start at multiples of the slide and last sizeMs. */
export function windowStarts(t: number, w: WindowSpec): number[] {
  const last = Math.floor(t / w.slideMs) * w.slideMs
  const out: number[] = []
  for (let s = last; s > t - w.sizeMs; s -= w.slideMs) out.push(s)
  return out.reverse()
}

// ---------------------------------------------------------------- quantile sketch (DDSketch, relative accuracy α)

/** Relative accuracy of p95: the value returned is within 1 % of the event value at that rank. */
export const SKETCH_ALPHA = 0.01
const GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA)
const LN_GAMMA = Math.log(GAMMA)

/** Bucket counts by log-index for positive and negative values, and the count of zeros; merging is adding. */
export interface Sketch {
  p: Record<string, number>
  n: Record<string, number>
  z: number
}

export const emptySketch = (): Sketch => ({ p: {}, n: {}, z: 0 })

const MIN_POSITIVE = 1e-12

export function sketchAdd(s: Sketch, v: number, count = 1) {
  const a = Math.abs(v)
  if (a < MIN_POSITIVE) {
    s.z += count
    return
  }
  const k = String(Math.ceil(Math.log(a) / LN_GAMMA))
  const store = v > 0 ? s.p : s.n
  store[k] = (store[k] ?? 0) + count
}

export function sketchMerge(into: Sketch, other: Sketch) {
  for (const [k, c] of Object.entries(other.p)) into.p[k] = (into.p[k] ?? 0) + c
  for (const [k, c] of Object.entries(other.n)) into.n[k] = (into.n[k] ?? 0) + c
  into.z += other.z
}

const bucketValue = (k: number) => (2 * GAMMA ** k) / (GAMMA + 1)

/**
 * The q-quantile as the value of rank ⌊q·(n−1)⌋ in sorted order (0-based), within SKETCH_ALPHA relative error.
 * null for an empty sketch.
 */
export function sketchQuantile(s: Sketch, q: number): number | null {
  const neg = Object.entries(s.n).map(([k, c]) => [Number(k), c] as const).sort((a, b) => b[0] - a[0])
  const pos = Object.entries(s.p).map(([k, c]) => [Number(k), c] as const).sort((a, b) => a[0] - b[0])
  const total = neg.reduce((t, [, c]) => t + c, 0) + s.z + pos.reduce((t, [, c]) => t + c, 0)
  if (total === 0) return null
  const rank = Math.floor(q * (total - 1))
  let seen = 0
  for (const [k, c] of neg) {
    seen += c
    if (seen > rank) return -bucketValue(k)
  }
  seen += s.z
  if (seen > rank) return 0
  for (const [k, c] of pos) {
    seen += c
    if (seen > rank) return bucketValue(k)
  }
  return bucketValue(pos[pos.length - 1][0])
}

// ---------------------------------------------------------------- per-window aggregates

export interface WindowAgg {
  count: number
  /** events that carried a numeric value (count counts every event) */
  valued: number
  sum: number
  min: number | null
  max: number | null
  sketch: Sketch
}

export const emptyAgg = (): WindowAgg => ({ count: 0, valued: 0, sum: 0, min: null, max: null, sketch: emptySketch() })

export function aggAdd(a: WindowAgg, value: number | null) {
  a.count++
  if (value === null) return
  a.valued++
  a.sum += value
  a.min = a.min === null ? value : Math.min(a.min, value)
  a.max = a.max === null ? value : Math.max(a.max, value)
  sketchAdd(a.sketch, value)
}

export function aggMerge(into: WindowAgg, other: WindowAgg) {
  into.count += other.count
  into.valued += other.valued
  into.sum += other.sum
  if (other.min !== null) into.min = into.min === null ? other.min : Math.min(into.min, other.min)
  if (other.max !== null) into.max = into.max === null ? other.max : Math.max(into.max, other.max)
  sketchMerge(into.sketch, other.sketch)
}

/** The requested aggregations of one window, as the API shows them. */
export function aggValues(a: WindowAgg, wanted: readonly Aggregation[]): Partial<Record<Aggregation, number | null>> {
  const out: Partial<Record<Aggregation, number | null>> = {}
  for (const w of wanted) {
    if (w === 'count') out.count = a.count
    else if (w === 'sum') out.sum = a.sum
    else if (w === 'avg') out.avg = a.valued ? a.sum / a.valued : null
    else if (w === 'min') out.min = a.min
    else if (w === 'max') out.max = a.max
    else out.p95 = sketchQuantile(a.sketch, 0.95)
  }
  return out
}

// ---------------------------------------------------------------- a batch of events → window deltas

export interface StreamEvent {
  /** event time, ms since the epoch */
  t: number
  value: number | null
  /** series key: the group_by values as a JSON array text, '' without group_by */
  key: string
}

export interface BatchResult {
  /** window start (ms) + '|' + series key → the batch's contribution */
  deltas: Map<string, { start: number; key: string; agg: WindowAgg }>
  /** newest event time seen, including this batch */
  maxEventTime: number | null
  accepted: number
  /** events every window of which had closed (end ≤ watermark when they arrived) */
  late: number
}

/**
 * Folds a batch into window deltas in arrival order. The watermark is the newest event time seen so far minus the
 * allowed lateness; an event still counts in each of its windows whose end is after the watermark at its arrival.
 */
export function foldBatch(events: readonly StreamEvent[], w: WindowSpec, maxEventTimeBefore: number | null): BatchResult {
  const deltas = new Map<string, { start: number; key: string; agg: WindowAgg }>()
  let maxT = maxEventTimeBefore
  let accepted = 0
  let late = 0
  for (const e of events) {
    const watermark = maxT === null ? -Infinity : maxT - w.latenessMs
    let counted = false
    for (const start of windowStarts(e.t, w)) {
      if (start + w.sizeMs <= watermark) continue
      const id = `${start}|${e.key}`
      let d = deltas.get(id)
      if (!d) deltas.set(id, (d = { start, key: e.key, agg: emptyAgg() }))
      aggAdd(d.agg, e.value)
      counted = true
    }
    if (counted) accepted++
    else late++
    if (maxT === null || e.t > maxT) maxT = e.t
  }
  return { deltas, maxEventTime: maxT, accepted, late }
}

// ---------------------------------------------------------------- robust z-score

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export interface RobustScore {
  median: number
  /** median absolute deviation of the history */
  mad: number
  /** 0.6745·(x − median)/MAD; with MAD = 0, (x − median)/(1.253314·mean absolute deviation); null when both are 0 */
  z: number | null
  anomalous: boolean
}

/** Robust z-score of x against a history of window values (Iglewicz & Hoaglin's modified z-score). */
export function robustZ(x: number, history: readonly number[], threshold: number): RobustScore {
  const med = median(history)
  const dev = history.map((h) => Math.abs(h - med))
  const mad = median(dev)
  let z: number | null
  if (mad > 0) z = (0.6745 * (x - med)) / mad
  else {
    const meanAd = dev.reduce((s, d) => s + d, 0) / dev.length
    z = meanAd > 0 ? (x - med) / (1.253314 * meanAd) : null
  }
  const anomalous = z === null ? x !== med : Math.abs(z) > threshold
  return { median: med, mad, z, anomalous }
}
