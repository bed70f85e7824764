import { HOUR_MS, median, type AnomalyType, type HourTotals, type Score } from '#app/features/ops/detector.ts'

/*
  The detector as it was before issue 15 (supabase/migrations/20250301000000_ops_analytics.sql,
  analytics.get_active_anomalies), ported to TypeScript only so the simulation can report "before" beside "after"
  (app/features/ops/detector.test.ts). Not used by the app.
  Same hour of the week in the previous 6 weeks (at least 3), median and MAD on the Anscombe scale 2·sqrt(x + 3/8)
  (revenue in units of the 28-day average order), scale floored at 1 (orders) / 1.2 (revenue) but never capped,
  |z| >= 4 flags; fulfillment in points with a binomial and 2-point floor.
*/
const WEEK_MS = 168 * HOUR_MS
const ZERO: HourTotals = { orders: 0, refunded: 0, revenue: 0, revenueSq: 0, fulfilled: 0, pending: 0 }
const anscombe = (x: number) => 2 * Math.sqrt(x + 0.375)

export function scoreRecentHoursV1(lookup: (hourStart: number) => HourTotals | undefined, nowMs: number, firstHourMs: number): Pick<Score, 'hourStart' | 'anomalyType'>[] {
  const end = Math.floor(nowMs / HOUR_MS) * HOUR_MS
  const get = (h: number) => lookup(h) ?? ZERO
  let rev = 0
  let orders = 0
  for (let h = end - 672 * HOUR_MS; h < end; h += HOUR_MS) {
    const t = lookup(h)
    if (!t) continue
    rev += t.revenue
    orders += t.orders
  }
  const aov = orders ? rev / orders : 0
  const out: Pick<Score, 'hourStart' | 'anomalyType'>[] = []
  const flag = (hourStart: number, anomalyType: AnomalyType) => out.push({ hourStart, anomalyType })
  for (let i = 1; i <= 30; i++) {
    const h = end - i * HOUR_MS
    const base: HourTotals[] = []
    for (let k = 1; k <= 6; k++) if (h - k * WEEK_MS >= firstHourMs) base.push(get(h - k * WEEK_MS))
    if (base.length < 3) continue
    const obs = get(h)
    const z = (x: number, xs: number[], floor: number) => {
      const m = median(xs)
      return (x - m) / Math.max(1.4826 * median(xs.map((v) => Math.abs(v - m))), floor)
    }
    const judged = h >= end - 24 * HOUR_MS
    const zO = z(anscombe(obs.orders), base.map((b) => anscombe(b.orders)), 1)
    if (judged && zO <= -4) flag(h, 'low_order_volume')
    if (aov > 0) {
      const zR = z(anscombe(obs.revenue / aov), base.map((b) => anscombe(b.revenue / aov)), 1.2)
      if (judged && zR <= -4) flag(h, 'revenue_drop')
      if (judged && zR >= 4) flag(h, 'revenue_spike')
    }
    const rate = (t: HourTotals) => (t.orders ? (100 * t.fulfilled) / t.orders : null)
    const r = rate(obs)
    const rates = base.map(rate).filter((x): x is number => x !== null)
    if (r !== null && h < end - 6 * HOUR_MS && obs.orders >= 5 && rates.length >= 3) {
      const m = median(rates)
      const s = Math.max(1.4826 * median(rates.map((v) => Math.abs(v - m))), 100 * Math.sqrt(0.09 / Math.max(obs.orders, 1)), 2)
      if ((r - m) / s <= -4) flag(h, 'fulfillment_rate_drop')
    }
  }
  return out
}
