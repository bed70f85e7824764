import { expectedOrders, generateOpsData, type OpsProfile } from '#app/demo/ops.server.ts'
import { seededRandom } from '#app/demo/random.ts'
import { HOUR_MS, scoreRecentHours, type HourTotals, type Score } from '#app/features/ops/detector.ts'
import { hourlySeries } from './ops-hours.ts'

/*
  The detector over weeks of seasonal synthetic data (the demo generator: daily and weekly seasonality, growth,
  lognormal baskets, refunds, cancellations, fulfilment delays; no injected incidents), evaluated the way the
  dashboard sees it: at every hour of the evaluated weeks, the alerts of the last 24 (or 30) hours.
  - false alarms: distinct (hour, anomaly type) flagged in the evaluated weeks, per tenant-week;
  - outages: for every evaluated hour in turn, all its orders removed; detected when the next evaluation flags it
    (low_order_volume or revenue_drop), counted over the hours whose true expected count is at least 5;
  - quiet hours: hours whose true expected count is at most 2 must never be flagged, outage or not.
*/

export type Detector = (lookup: (hourStart: number) => HourTotals | undefined, nowMs: number, firstHourMs: number) => Pick<Score, 'hourStart' | 'anomalyType'>[]

export interface SimulationResult {
  weeks: number
  falseAlarms: number
  falseAlarmsPerWeek: number[]
  outageHours: number
  outagesDetected: number
  quietHours: number
  quietFlagged: number
}

const DROP = new Set(['low_order_volume', 'revenue_drop'])

export function simulateDetector(opts: { profile: Partial<OpsProfile>; seed: number; baselineWeeks?: number; weeks?: number; detector?: Detector }): SimulationResult {
  const baselineWeeks = opts.baselineWeeks ?? 8
  const weeks = opts.weeks ?? 4
  const detect: Detector = opts.detector ?? scoreRecentHours
  const now = new Date(Date.UTC(2026, 2, 30, 0, 0))
  const days = (baselineWeeks + weeks) * 7
  const data = generateOpsData(seededRandom(opts.seed), now, { days, incidents: false, profile: opts.profile })
  const profile: OpsProfile = { baseRate: 10, avgOrderValue: 85, customers: 3000, ...opts.profile }
  const end = now.getTime()
  const start = end - days * 24 * HOUR_MS
  const evalStart = end - weeks * 168 * HOUR_MS
  const lambda = (h: number) => expectedOrders(profile, h, start)
  const series = hourlySeries(data)

  // normal weeks: every hour's evaluation, alerts about evaluated hours
  const flagged = new Set<string>()
  const perWeek = Array<number>(weeks).fill(0)
  let quietFlagged = 0
  for (let t = evalStart + HOUR_MS; t <= end; t += HOUR_MS) {
    for (const s of detect((h) => series.lookup(h, t), t, series.firstHour)) {
      if (!s.anomalyType || s.hourStart < evalStart) continue
      const key = `${s.hourStart}:${s.anomalyType}`
      if (flagged.has(key)) continue
      flagged.add(key)
      perWeek[Math.floor((s.hourStart - evalStart) / (168 * HOUR_MS))]++
      if (lambda(s.hourStart) <= 2) quietFlagged++
    }
  }

  // outages, one hour at a time
  let outageHours = 0
  let outagesDetected = 0
  let quietHours = 0
  for (let h = evalStart; h < end; h += HOUR_MS) {
    const l = lambda(h)
    if (l > 2 && l < 5) continue
    const cut = series.without([h])
    const hit = detect((x) => cut.lookup(x, h + HOUR_MS), h + HOUR_MS, cut.firstHour).some((s) => s.hourStart === h && s.anomalyType && DROP.has(s.anomalyType))
    if (l >= 5) {
      outageHours++
      if (hit) outagesDetected++
    } else {
      quietHours++
      if (hit) quietFlagged++
    }
  }
  return { weeks, falseAlarms: flagged.size, falseAlarmsPerWeek: perWeek, outageHours, outagesDetected, quietHours, quietFlagged }
}
