import { describe, expect, it } from 'vitest'
import { simulateDetector, type SimulationResult } from '#tests/support/detector-simulation.ts'
import { scoreRecentHoursV1 } from '#tests/support/detector-v1.ts'
import { DETECTOR, HOUR_MS, median, pooledDispersion, scoreRecentHours, type HourTotals } from './detector.ts'

const WEEK = 168 * HOUR_MS
const NOW = Date.UTC(2026, 2, 11, 15, 25)
const END = Math.floor(NOW / HOUR_MS) * HOUR_MS
const totals = (orders: number, aov = 100): HourTotals => ({ orders, refunded: 0, revenue: orders * aov, revenueSq: orders * aov * aov * 1.3, fulfilled: orders, pending: 0 })

/** A series where every hour has `level` orders, except the given overrides. */
function flatSeries(level: number, overrides: Record<number, HourTotals> = {}) {
  const first = END - 10 * WEEK
  return { lookup: (h: number) => (h in overrides ? overrides[h] : h >= first ? totals(level) : undefined), first }
}

describe('median and pooled dispersion', () => {
  it('median is percentile_cont(0.5)', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })
  it('is 1 for Poisson-like spread, larger for overdispersed counts, 1 without enough busy hours', () => {
    // Poisson(20) has sd 4.47: samples spread about that much give about 1
    const poissonish = Array.from({ length: 10 }, () => [16, 18, 20, 20, 22, 24, 15, 25])
    expect(pooledDispersion(poissonish)).toBeLessThan(1.3)
    const wide = Array.from({ length: 10 }, () => [8, 12, 20, 20, 28, 32, 5, 35])
    expect(pooledDispersion(wide)).toBeGreaterThan(3)
    expect(pooledDispersion([[1, 2, 0, 1]])).toBe(1)
  })
})

describe('scores', () => {
  it('are on the metric scale: z = (observed - expected) / scale, scale never below Poisson', () => {
    const { lookup, first } = flatSeries(16)
    const s = scoreRecentHours(lookup, NOW, first)
    const o = s.find((x) => x.metric === 'orders' && x.hourStart === END - HOUR_MS)!
    expect(o.expected).toBe(16)
    expect(o.baselineWeeks).toBe(DETECTOR.baselineWeeks)
    expect(o.scale).toBeCloseTo(Math.sqrt(16 * (1 + 1 / 8)), 10)
    expect(o.z).toBe(0)
  })

  it("flag a full outage where six noisy weeks once hid it (issue 15.5: median 16, samples [22, 25, 11, 14, 18, 10])", () => {
    const h = END - 3 * HOUR_MS
    const weeks = [22, 25, 11, 14, 18, 10]
    const overrides: Record<number, HourTotals> = { [h]: totals(0) }
    weeks.forEach((n, i) => (overrides[h - (i + 1) * WEEK] = totals(n)))
    const first = h - 6 * WEEK
    const s = scoreRecentHours((x) => (x in overrides ? overrides[x] : x >= first ? totals(16) : undefined), NOW, first)
    const o = s.find((x) => x.metric === 'orders' && x.hourStart === h)!
    expect(o.expected).toBe(100 / 6)
    expect(o.z).toBeLessThan(-3.5)
    expect(o.anomalyType).toBe('low_order_volume')
    expect(o.severity).toBe('critical')
  })

  it('keep a past outage out of the baseline', () => {
    const h = END - 2 * HOUR_MS
    const s = scoreRecentHours(flatSeries(20, { [h - 2 * WEEK]: totals(0) }).lookup, NOW, END - 10 * WEEK)
    const o = s.find((x) => x.metric === 'orders' && x.hourStart === h)!
    expect(o.expected).toBe(20)
    expect(o.baselineWeeks).toBe(7)
  })

  it('never judge an hour expected to have 2 orders or fewer', () => {
    const { lookup, first } = flatSeries(2, { [END - HOUR_MS]: totals(0), [END - 2 * HOUR_MS]: totals(40) })
    expect(scoreRecentHours(lookup, NOW, first).filter((x) => x.anomalyType)).toEqual([])
  })

  it('flag a revenue spike of twice the usual with a large z, and not a busy but normal hour', () => {
    const spike = { ...totals(20), revenue: 20 * 100 + 6 * 1500, revenueSq: 20 * 13_000 + 6 * 1500 * 1500 }
    const { lookup, first } = flatSeries(20, { [END - 4 * HOUR_MS]: spike, [END - 5 * HOUR_MS]: totals(27) })
    const flagged = scoreRecentHours(lookup, NOW, first).filter((x) => x.anomalyType)
    expect(flagged.map((x) => [x.hourStart, x.anomalyType])).toEqual([[END - 4 * HOUR_MS, 'revenue_spike']])
  })

  it('judge fulfillment only on hours 6 to 30 hours old', () => {
    const late = { ...totals(20), fulfilled: 4, pending: 16 }
    const { lookup, first } = flatSeries(20, { [END - 3 * HOUR_MS]: late, [END - 10 * HOUR_MS]: late })
    const flagged = scoreRecentHours(lookup, NOW, first).filter((x) => x.anomalyType)
    expect(flagged.map((x) => [x.hourStart, x.anomalyType, x.severity])).toEqual([[END - 10 * HOUR_MS, 'fulfillment_rate_drop', 'critical']])
  })

  it('need 3 baseline weeks', () => {
    const first = END - 2 * WEEK - 40 * HOUR_MS
    expect(scoreRecentHours((h) => (h >= first ? totals(20) : undefined), NOW, first)).toEqual([])
  })
})

/*
  Issue 15.5's requirement, on the demo generator's two shop profiles (10 orders/hour at AOV 85, 5 at AOV 140), 8
  baseline weeks then 4 evaluated weeks, 3 seeds each (12 tenant-weeks per profile).
*/
describe('simulation over weeks of seasonal synthetic data', () => {
  const profiles = [
    { name: 'demo shop A (10/h)', profile: { baseRate: 10, avgOrderValue: 85 } },
    { name: 'demo shop B (5/h)', profile: { baseRate: 5, avgOrderValue: 140 } },
  ]
  it.each(profiles)('$name: >= 95 % of full outages (expected >= 5) flagged, <= 1 false alarm per tenant-week, quiet hours never', ({ name, profile }) => {
    const runs: SimulationResult[] = [1, 2, 3].map((seed) => simulateDetector({ profile, seed }))
    const sum = (f: (r: SimulationResult) => number) => runs.reduce((s, r) => s + f(r), 0)
    const weeks = sum((r) => r.weeks)
    const detection = sum((r) => r.outagesDetected) / sum((r) => r.outageHours)
    const falseAlarms = sum((r) => r.falseAlarms) / weeks
    console.log(
      `[detector simulation] ${name}: outages detected ${sum((r) => r.outagesDetected)}/${sum((r) => r.outageHours)} (${(100 * detection).toFixed(1)} %), ` +
        `false alarms ${sum((r) => r.falseAlarms)} in ${weeks} tenant-weeks (${falseAlarms.toFixed(2)}/week; per week ${runs.flatMap((r) => r.falseAlarmsPerWeek).join(' ')}), ` +
        `quiet hours flagged ${sum((r) => r.quietFlagged)} of ${sum((r) => r.quietHours)} tested`,
    )
    expect(detection).toBeGreaterThanOrEqual(0.95)
    expect(falseAlarms).toBeLessThanOrEqual(1)
    expect(sum((r) => r.quietFlagged)).toBe(0)
  }, 60_000)

  it.each(profiles)('$name: before issue 15 (the v1 detector on the same data), for the record', ({ name, profile }) => {
    const runs: SimulationResult[] = [1, 2, 3].map((seed) => simulateDetector({ profile, seed, detector: scoreRecentHoursV1 }))
    const sum = (f: (r: SimulationResult) => number) => runs.reduce((s, r) => s + f(r), 0)
    const weeks = sum((r) => r.weeks)
    console.log(
      `[detector simulation, BEFORE (v1)] ${name}: outages detected ${sum((r) => r.outagesDetected)}/${sum((r) => r.outageHours)} ` +
        `(${((100 * sum((r) => r.outagesDetected)) / sum((r) => r.outageHours)).toFixed(1)} %), false alarms ${sum((r) => r.falseAlarms)} in ${weeks} tenant-weeks ` +
        `(${(sum((r) => r.falseAlarms) / weeks).toFixed(2)}/week), quiet hours flagged ${sum((r) => r.quietFlagged)} of ${sum((r) => r.quietHours)} tested`,
    )
    // the defect issue 15.5 reported: the old scale let noisy baselines hide full outages
    expect(sum((r) => r.outagesDetected) / sum((r) => r.outageHours)).toBeLessThan(0.95)
  }, 60_000)
})
