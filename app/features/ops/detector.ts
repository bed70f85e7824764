/*
  The anomaly detector's math, pure (no database). analytics.get_active_anomalies applies exactly these rules in SQL
  (supabase/migrations/20250503000000_ops_anomaly_detector.sql); this copy exists so the rules can be simulated over
  many weeks of synthetic data (detector.test.ts) and the SQL checked against it (tests/integration/ops-detector.test.ts).

  Each of the 30 most recent complete UTC hours is compared with the same hour of the week in up to 8 previous weeks
  (exact 168-hour steps, so daylight-saving changes do not matter; only weeks since the tenant's first order; at
  least 3). Every score is on the metric's own scale: robust_z = (observed - expected) / scale.

  Orders (counts). expected = the mean of the baseline weeks that are not outliers (within 3 units of their median,
  so a past outage or promotion does not drag the baseline). scale = sqrt(phi * max(expected, 1) * (1 + 1/n)):
  the Poisson standard deviation of the count, widened by phi (the tenant's overdispersion) and by the uncertainty of
  a mean of n weeks. phi is pooled across the 30 hours (the robust spread of every baseline count around its hour's
  median, in Poisson units, over hours whose median is at least 5), never below 1 (a count is at least as noisy as
  Poisson) nor above 4. Six noisy weekly samples can therefore no longer widen one hour's scale until a full outage
  looks normal (issue 15.5).
  Revenue (a sum of order values: compound Poisson). expected = the robust mean of the weekly revenues; scale =
  sqrt(phi * max(expected orders, expected revenue / mean order, 1) * E[order value²] * (1 + 1/n)), with the mean order
  and E[order value²] of the last 28 days.
  Fulfillment rate (percentage points). expected = the median baseline rate; scale = max(1.4826 * MAD, the binomial
  noise of the hour's orders around a 90 % rate, 2 points).

  Flags (judged only on hours expected to have more than 2 orders: a quieter hour is decided by a single basket):
  - low_order_volume / revenue_drop (last 24 hours): a near-outage (at most 20 % of expected, z <= -1.96) or a large
    drop (at most 50 % of expected, z <= -4). z <= -1.96 alone would be loose, but together with "80 % missing" its
    false-alarm rate under Poisson noise is at most 1.4 % per hour at any level (at expected 6.25, where one order
    instead of six is flagged; 0.7 % at 5, where even a zero is that likely; below 0.03 % from 15 up), and it flags a
    zero wherever the expected count is 4.4 or more (8 baseline weeks, Poisson-like noise; 5.1 with 3 weeks). The
    rates this gives on seasonal data, before and after issue 15, are measured by detector.test.ts.
  - revenue_spike (last 24 hours): at least twice the expected and z >= 6 (order values have a heavy right tail).
  - fulfillment_rate_drop (hours 6-30 h old, so orders have had time to ship; at least 5 orders to fulfil and 3
    baseline weeks with orders): z <= -4.
  Severity: a drop to at most 20 % of expected is critical, a larger remainder high; a spike of 3x or more critical,
  else high; a fulfillment drop of 30 points critical, 15 high, less medium.
*/

export const HOUR_MS = 3_600_000
const WEEK_MS = 168 * HOUR_MS

export const DETECTOR = {
  recentHours: 30,
  judgedHours: 24,
  fulfillmentMinAgeHours: 6,
  baselineWeeks: 8,
  minBaselineWeeks: 3,
  /** hours expected to have at most this many orders are not judged */
  quietExpected: 2,
  /** outliers of a baseline are further than this many units from its median */
  inlierUnits: 3,
  nearOutage: { z: 1.96, share: 0.2 },
  largeDrop: { z: 4, share: 0.5 },
  spike: { z: 6, ratio: 2, critical: 3 },
  fulfillment: { z: 4, minOrders: 5, floorPoints: 2, rate: 0.9 },
  dispersion: { minMedian: 5, minResiduals: 20, max: 4 },
  /** the mean order and E[order value²] come from the last 28 days */
  orderValueHours: 672,
} as const

/** One UTC hour of hourly_commerce (orders placed, refunded ones, net revenue and its squares, fulfilment). */
export interface HourTotals {
  orders: number
  refunded: number
  revenue: number
  revenueSq: number
  fulfilled: number
  pending: number
}

export type Metric = 'orders' | 'revenue' | 'fulfillment_rate_pct'
export type AnomalyType = 'low_order_volume' | 'revenue_drop' | 'revenue_spike' | 'fulfillment_rate_drop'
export type Severity = 'medium' | 'high' | 'critical'

export interface Score {
  hourStart: number
  metric: Metric
  observed: number
  expected: number
  scale: number
  z: number
  baselineWeeks: number
  anomalyType: AnomalyType | null
  severity: Severity | null
}

const ZERO: HourTotals = { orders: 0, refunded: 0, revenue: 0, revenueSq: 0, fulfilled: 0, pending: 0 }

/** Linear-interpolation median (Postgres' percentile_cont(0.5)). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** The mean of the values within `unit * inlierUnits` of their median, and how many there were. */
function robustMean(xs: readonly number[], med: number, unit: number) {
  const keep = xs.filter((x) => Math.abs(x - med) <= DETECTOR.inlierUnits * unit)
  return keep.length ? { mean: keep.reduce((a, b) => a + b, 0) / keep.length, n: keep.length } : { mean: med, n: xs.length }
}

/** The tenant's overdispersion: (1.4826 * median Pearson residual)², clamped to [1, 4]; 1 without enough busy hours. */
export function pooledDispersion(groups: ReadonlyArray<readonly number[]>): number {
  const { minMedian, minResiduals, max } = DETECTOR.dispersion
  const residuals: number[] = []
  for (const g of groups) {
    const m = median(g)
    if (m < minMedian) continue
    // deviations from a median of n values understate the spread by about sqrt((n - 1) / n)
    const k = Math.sqrt(g.length / (g.length - 1))
    for (const x of g) residuals.push((Math.abs(x - m) / Math.sqrt(m)) * k)
  }
  if (residuals.length < minResiduals) return 1
  const d = 1.4826 * median(residuals)
  return Math.min(max, Math.max(1, d * d))
}

const isDrop = (x: number, e: number, z: number) =>
  (z <= -DETECTOR.nearOutage.z && x <= DETECTOR.nearOutage.share * e) || (z <= -DETECTOR.largeDrop.z && x <= DETECTOR.largeDrop.share * e)
const dropSeverity = (x: number, e: number): Severity => (x <= DETECTOR.nearOutage.share * e ? 'critical' : 'high')

/**
 * Scores the 30 complete hours before `nowMs` (newest first): orders and revenue for every hour with enough baseline
 * weeks, the fulfillment rate where the hour has orders to fulfil. `lookup` returns an hour's totals (undefined: none).
 */
export function scoreRecentHours(lookup: (hourStart: number) => HourTotals | undefined, nowMs: number, firstHourMs: number): Score[] {
  const end = Math.floor(nowMs / HOUR_MS) * HOUR_MS
  const get = (h: number) => lookup(h) ?? ZERO

  let revenue = 0
  let revenueSq = 0
  let paidOrders = 0
  for (let h = end - DETECTOR.orderValueHours * HOUR_MS; h < end; h += HOUR_MS) {
    const t = lookup(h)
    if (!t) continue
    revenue += t.revenue
    revenueSq += t.revenueSq
    paidOrders += t.orders - t.refunded
  }
  const meanOrder = paidOrders ? revenue / paidOrders : 0
  const orderSq = paidOrders ? revenueSq / paidOrders : 0

  const hours = Array.from({ length: DETECTOR.recentHours }, (_, i) => {
    const h = end - (i + 1) * HOUR_MS
    const base: HourTotals[] = []
    for (let k = 1; k <= DETECTOR.baselineWeeks; k++) if (h - k * WEEK_MS >= firstHourMs) base.push(get(h - k * WEEK_MS))
    return { h, obs: get(h), base }
  }).filter((x) => x.base.length >= DETECTOR.minBaselineWeeks)

  const phi = pooledDispersion(hours.map((x) => x.base.map((b) => b.orders)))
  const scores: Score[] = []
  for (const { h, obs, base } of hours) {
    const judged = h >= end - DETECTOR.judgedHours * HOUR_MS
    const counts = base.map((b) => b.orders)
    const medO = median(counts)
    const o = robustMean(counts, medO, Math.sqrt(phi * Math.max(medO, 1)))
    const sO = Math.sqrt(phi * Math.max(o.mean, 1) * (1 + 1 / o.n))
    const zO = (obs.orders - o.mean) / sO
    const busy = o.mean > DETECTOR.quietExpected
    const lowVolume = judged && busy && isDrop(obs.orders, o.mean, zO)
    scores.push({
      hourStart: h, metric: 'orders', observed: obs.orders, expected: o.mean, scale: sO, z: zO, baselineWeeks: o.n,
      anomalyType: lowVolume ? 'low_order_volume' : null, severity: lowVolume ? dropSeverity(obs.orders, o.mean) : null,
    })

    if (orderSq > 0) {
      const revs = base.map((b) => b.revenue)
      const medR = median(revs)
      const r = robustMean(revs, medR, Math.sqrt(phi * Math.max(medO, medR / meanOrder, 1) * orderSq))
      const sR = Math.sqrt(phi * Math.max(o.mean, r.mean / meanOrder, 1) * orderSq * (1 + 1 / r.n))
      const zR = (obs.revenue - r.mean) / sR
      const drop = judged && busy && isDrop(obs.revenue, r.mean, zR)
      const spike = judged && busy && zR >= DETECTOR.spike.z && obs.revenue >= DETECTOR.spike.ratio * r.mean
      scores.push({
        hourStart: h, metric: 'revenue', observed: obs.revenue, expected: r.mean, scale: sR, z: zR, baselineWeeks: r.n,
        anomalyType: drop ? 'revenue_drop' : spike ? 'revenue_spike' : null,
        severity: drop ? dropSeverity(obs.revenue, r.mean) : spike ? (obs.revenue >= DETECTOR.spike.critical * r.mean ? 'critical' : 'high') : null,
      })
    }

    const toFulfil = obs.fulfilled + obs.pending
    const rates = base.filter((b) => b.fulfilled + b.pending > 0).map((b) => (100 * b.fulfilled) / (b.fulfilled + b.pending))
    if (toFulfil > 0 && rates.length) {
      const rate = (100 * obs.fulfilled) / toFulfil
      const e = median(rates)
      const mad = median(rates.map((x) => Math.abs(x - e)))
      const { z: zMin, minOrders, floorPoints, rate: typical } = DETECTOR.fulfillment
      const s = Math.max(1.4826 * mad, 100 * Math.sqrt((typical * (1 - typical)) / toFulfil), floorPoints)
      const z = (rate - e) / s
      const old = h < end - DETECTOR.fulfillmentMinAgeHours * HOUR_MS
      const flag = old && toFulfil >= minOrders && rates.length >= DETECTOR.minBaselineWeeks && z <= -zMin
      scores.push({
        hourStart: h, metric: 'fulfillment_rate_pct', observed: rate, expected: e, scale: s, z, baselineWeeks: rates.length,
        anomalyType: flag ? 'fulfillment_rate_drop' : null,
        severity: flag ? (e - rate >= 30 ? 'critical' : e - rate >= 15 ? 'high' : 'medium') : null,
      })
    }
  }
  return scores
}
