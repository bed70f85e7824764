import { describe, expect, it } from 'vitest'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'
import {
  averageRanks, benjaminiHochberg, correlationP, fUpperP, kurtosis, momentsFromPowerSums, momentsOf, pearson, quantileSorted,
  seededRandom, skewness, spearman, tQuantile, tTwoSidedP,
} from './stats.ts'

const rand = seededRandom(7)
const xs = Array.from({ length: 300 }, () => Math.round((rand() * 50 + rand() ** 3 * 200) * 100) / 100)
const ys = xs.map((x) => 3 + 0.4 * x + (rand() - 0.5) * 40)

describe('moments', () => {
  it('power sums around a shift give the same central moments as two passes', () => {
    const shift = 40
    const s = [1, 2, 3, 4].map((k) => xs.reduce((t, x) => t + (x - shift) ** k, 0))
    const a = momentsFromPowerSums(xs.length, shift, s[0], s[1], s[2], s[3])
    const b = momentsOf(xs)
    for (const k of ['mean', 'm2', 'm3', 'm4'] as const) expect(a[k]).toBeCloseTo(b[k], 6)
  })

  it('skewness and kurtosis follow the bias-corrected definitions', () => {
    // A small hand-checked case: 1..5 is symmetric (G1 = 0) with excess kurtosis −1.2.
    const m = momentsOf([1, 2, 3, 4, 5])
    expect(skewness(m)).toBeCloseTo(0, 12)
    expect(kurtosis(m)).toBeCloseTo(-1.2, 12)
    expect(skewness(momentsOf([1, 1]))).toBeNull()
    expect(kurtosis(momentsOf([2, 2, 2, 2, 2]))).toBeNull()
  })

  it('quantiles interpolate linearly between ranks', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantileSorted([10, 20, 30, 40, 50], 0.9)).toBeCloseTo(46, 12)
  })
})

describe('correlation', () => {
  it('averages tied ranks', () => {
    expect([...averageRanks([10, 20, 20, 5])]).toEqual([2, 3.5, 3.5, 1])
  })

  it('p-values come from the t distribution, exact in the tails', () => {
    // t = 2.228138842 is the 97.5 % quantile of t(10).
    expect(tTwoSidedP(tQuantile(0.975, 10), 10)).toBeCloseTo(0.05, 10)
    expect(tTwoSidedP(40, 200)).toBeGreaterThan(0)
    expect(tTwoSidedP(40, 200)).toBeLessThan(1e-90)
    expect(fUpperP(0, 2, 10)).toBe(1)
    expect(correlationP(1, 10)).toBe(0)
  })

  it('Benjamini–Hochberg matches the step-up definition', () => {
    const adj = benjaminiHochberg([0.01, 0.04, 0.03, 0.2, NaN])
    // sorted 0.01, 0.03, 0.04, 0.2 (m = 4): 0.04, min(0.06, 0.0533) = 0.0533, 0.0533, 0.2
    expect(adj[0]).toBeCloseTo(0.04, 12)
    expect(adj[2]).toBeCloseTo(0.16 / 3, 12)
    expect(adj[1]).toBeCloseTo(0.16 / 3, 12)
    expect(adj[3]).toBeCloseTo(0.2, 12)
    expect(adj[4]).toBeNaN()
  })

  it('matches SciPy and statsmodels', () => {
    const why = pythonMissing(['scipy', 'statsmodels'])
    if (why) return skipNote('stats vs SciPy', why)
    const py = runPython(
      `import json,sys
from scipy import stats
from statsmodels.stats.multitest import multipletests
d=json.load(sys.stdin)
x,y=d['x'],d['y']
pr=stats.pearsonr(x,y); sr=stats.spearmanr(x,y)
print(json.dumps({'pr':[pr[0],pr[1]],'sr':[sr[0],sr[1]],'skew':stats.skew(x,bias=False),'kurt':stats.kurtosis(x,bias=False),
 'bh':list(multipletests(d['p'],method='fdr_bh')[1]),'tq':stats.t.ppf(0.9,7),'fp':stats.f.sf(3.1,3,40),
 'big':[2*stats.t.sf(t,2e6) for t in (0.3,1.9,6.0)]}))`,
      { x: xs, y: ys, p: [0.001, 0.2, 0.03, 0.04, 0.5] },
    )
    const r = pearson(xs, ys)
    expect(r).toBeCloseTo(py.pr[0], 12)
    expect(correlationP(r, xs.length) / py.pr[1]).toBeCloseTo(1, 8)
    const rs = spearman(xs, ys)
    expect(rs).toBeCloseTo(py.sr[0], 12)
    expect(correlationP(rs, xs.length) / py.sr[1]).toBeCloseTo(1, 8)
    const m = momentsOf(xs)
    expect(skewness(m)).toBeCloseTo(py.skew, 10)
    expect(kurtosis(m)).toBeCloseTo(py.kurt, 10)
    benjaminiHochberg([0.001, 0.2, 0.03, 0.04, 0.5]).forEach((p, i) => expect(p).toBeCloseTo(py.bh[i], 12))
    expect(tQuantile(0.9, 7)).toBeCloseTo(py.tq, 8)
    expect(fUpperP(3.1, 3, 40)).toBeCloseTo(py.fp, 10)
    // millions of rows: the continued fraction needs ~√df terms
    ;[0.3, 1.9, 6].forEach((t, i) => expect(tTwoSidedP(t, 2e6) / py.big[i]).toBeCloseTo(1, 7))
  }, ORACLE_TIMEOUT)
})
