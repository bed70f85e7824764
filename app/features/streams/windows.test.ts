import { describe, expect, it } from 'vitest'
import { aggAdd, aggMerge, aggValues, emptyAgg, foldBatch, parseDuration, robustZ, SKETCH_ALPHA, sketchQuantile, emptySketch, sketchAdd, windowStarts } from './windows.ts'

const rng = (seed: number) => () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32)

describe('window math', () => {
  it('parses durations', () => {
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('0s')).toBeNull()
    expect(parseDuration('5 minutes')).toBeNull()
    expect(parseDuration('-1m')).toBeNull()
  })

  it('assigns an event to one tumbling window and to size/slide sliding windows', () => {
    expect(windowStarts(125_000, { sizeMs: 60_000, slideMs: 60_000, latenessMs: 0 })).toEqual([120_000])
    expect(windowStarts(120_000, { sizeMs: 60_000, slideMs: 60_000, latenessMs: 0 })).toEqual([120_000])
    expect(windowStarts(125_000, { sizeMs: 60_000, slideMs: 20_000, latenessMs: 0 })).toEqual([80_000, 100_000, 120_000])
    // every window listed holds t, and no other window does
    for (const t of [0, 1, 19_999, 20_000, 59_999, 61_234]) {
      for (const s of windowStarts(t, { sizeMs: 60_000, slideMs: 20_000, latenessMs: 0 })) expect(s <= t && t < s + 60_000).toBe(true)
    }
  })

  it('p95 from the sketch is within α of the exact value at rank ⌊0.95(n−1)⌋, on mixed-sign data', () => {
    const r = rng(7)
    for (const n of [1, 2, 19, 100, 5000]) {
      const xs = Array.from({ length: n }, () => (r() < 0.2 ? -1 : 1) * Math.exp(r() * 12 - 3) * (r() < 0.05 ? 0 : 1))
      const s = emptySketch()
      for (const x of xs) sketchAdd(s, x)
      for (const q of [0, 0.5, 0.95, 1]) {
        const exact = [...xs].sort((a, b) => a - b)[Math.floor(q * (n - 1))]
        const got = sketchQuantile(s, q)!
        expect(Math.abs(got - exact)).toBeLessThanOrEqual(SKETCH_ALPHA * Math.abs(exact) + 1e-12)
      }
    }
    expect(sketchQuantile(emptySketch(), 0.95)).toBeNull()
  })

  it('merging partial aggregates equals aggregating all values', () => {
    const r = rng(3)
    const xs = Array.from({ length: 1000 }, () => r() * 100 - 20)
    const whole = emptyAgg()
    const a = emptyAgg()
    const b = emptyAgg()
    xs.forEach((x, i) => {
      aggAdd(whole, x)
      aggAdd(i % 3 ? a : b, x)
    })
    aggMerge(a, b)
    expect(aggValues(a, ['count', 'sum', 'avg', 'min', 'max', 'p95'])).toEqual(aggValues(whole, ['count', 'sum', 'avg', 'min', 'max', 'p95']))
  })

  it('drops an event every window of which the watermark has passed', () => {
    const w = { sizeMs: 10_000, slideMs: 10_000, latenessMs: 2_000 }
    const f = foldBatch(
      [
        { t: 15_000, value: 1, key: '' },
        { t: 9_000, value: 1, key: '' }, // watermark 13 s: window [0, 10 s) has closed
        { t: 14_000, value: 1, key: '' },
        { t: 25_000, value: 1, key: '' },
        { t: 19_500, value: 1, key: '' }, // watermark 23 s: [10 s, 20 s) closed
        { t: 23_500, value: 1, key: '' },
      ],
      w,
      null,
    )
    expect(f.late).toBe(2)
    expect(f.accepted).toBe(4)
    expect(f.maxEventTime).toBe(25_000)
    expect([...f.deltas.values()].map((d) => [d.start, d.agg.count])).toEqual([[10_000, 2], [20_000, 2]])
  })

  it('robust z-score: 0.6745·(x − median)/MAD, with the mean-absolute-deviation fallback', () => {
    const h = [10, 12, 11, 13, 9, 10, 11]
    // median 11, deviations 1,1,0,2,2,1,0 → MAD 1
    const s = robustZ(20, h, 3.5)
    expect(s.median).toBe(11)
    expect(s.mad).toBe(1)
    expect(s.z).toBeCloseTo(0.6745 * 9, 12)
    expect(s.anomalous).toBe(true)
    expect(robustZ(12, h, 3.5).anomalous).toBe(false)
    // MAD 0: [5,5,5,5,9] → median 5, mean abs dev 0.8
    const f = robustZ(7, [5, 5, 5, 5, 9], 3.5)
    expect(f.mad).toBe(0)
    expect(f.z).toBeCloseTo(2 / (1.253314 * 0.8), 12)
    expect(robustZ(5, [5, 5, 5], 3.5)).toMatchObject({ z: null, anomalous: false })
    expect(robustZ(6, [5, 5, 5], 3.5)).toMatchObject({ z: null, anomalous: true })
  })
})
