import { describe, expect, it } from 'vitest'
import { fitLinear, momentsOfColumns, r2OfSubset } from './regression.ts'
import { shapleyValues } from './shapley.ts'
import { seededRandom } from './stats.ts'

describe('LMG / Shapley decomposition of R²', () => {
  const rand = seededRandom(3)
  const n = 400
  const a = Array.from({ length: n }, () => rand())
  const b = a.map((v) => 0.6 * v + 0.4 * rand())
  const c = Array.from({ length: n }, () => rand())
  const y = a.map((v, i) => 3 * v + 1 * b[i] + 0.2 * c[i] + (rand() - 0.5))
  const m = momentsOfColumns(['a', 'b', 'c', 'y'], [a, b, c, y])
  const r2 = (mask: number) => r2OfSubset(m, [0, 1, 2].filter((j) => mask & (1 << j)), 3)

  it('adds up to the full R² and is the average marginal gain over all orders', () => {
    const v = shapleyValues(3, r2)
    expect(v.reduce((s, x) => s + x, 0)).toBeCloseTo(fitLinear(m, ['a', 'b', 'c'], 'y').r2, 12)
    // Test-side: the average over the 3! orders of each factor's marginal gain.
    const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
    const ref = [0, 0, 0]
    for (const o of orders) {
      let mask = 0
      for (const j of o) {
        ref[j] += (r2(mask | (1 << j)) - r2(mask)) / orders.length
        mask |= 1 << j
      }
    }
    v.forEach((x, j) => expect(x).toBeCloseTo(ref[j], 12))
    expect(v[0]).toBeGreaterThan(v[1])
    expect(v[1]).toBeGreaterThan(v[2])
  })

  it('two identical factors share equally', () => {
    const v = shapleyValues(2, (mask) => (mask ? 0.5 : 0))
    expect(v).toEqual([0.25, 0.25])
  })
})
