import { describe, expect, it } from 'vitest'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'
import { solveLinearProgram, type LinearProgram } from './optimize.ts'
import { buildProgram, curveValue, decisionValue, linearise, type DecisionVariable } from './response-curves.ts'

const workshop: LinearProgram = {
  sense: 'maximize',
  objective: { chairs: 30, tables: 50 },
  constraints: [
    { name: 'carpentry', terms: { chairs: 1, tables: 2 }, upper: 40 },
    { name: 'finishing', terms: { chairs: 2, tables: 1 }, upper: 50 },
  ],
}

describe('HiGHS programs', () => {
  it('solves an LP and a MIP', async () => {
    const lp = await solveLinearProgram(workshop)
    expect(lp.status).toBe('optimal')
    if (lp.status !== 'optimal') return
    expect(lp.objective).toBeCloseTo(1100, 8)
    expect(lp.values.chairs).toBeCloseTo(20, 8)
    expect(lp.duals).not.toBeNull()
    const mip = await solveLinearProgram({ ...workshop, constraints: [{ ...workshop.constraints[0], upper: 41 }, workshop.constraints[1]], integers: ['chairs', 'tables'] })
    expect(mip.status).toBe('optimal')
    if (mip.status === 'optimal') {
      expect(Number.isInteger(Math.round(mip.values.tables * 1e9) / 1e9)).toBe(true)
      expect(mip.mip).toBe(true)
    }
  })

  it('names the constraints and bounds that conflict, and the variables of an unbounded ray', async () => {
    const bad = await solveLinearProgram({
      sense: 'maximize',
      objective: { x: 3, y: 2 },
      constraints: [
        { name: 'budget', terms: { x: 1, y: 1 }, upper: 10 },
        { name: 'min_x', terms: { x: 1 }, lower: 8 },
        { name: 'min_y', terms: { y: 1 }, lower: 5 },
        { name: 'unrelated', terms: { x: 1, y: -1 }, upper: 100 },
      ],
      bounds: { x: { upper: 20 }, y: { upper: 20 } },
    })
    expect(bad.status).toBe('infeasible')
    if (bad.status === 'infeasible') expect(bad.constraints.sort()).toEqual(['budget', 'min_x', 'min_y'])
    const free = await solveLinearProgram({ sense: 'maximize', objective: { x: 1, y: 1 }, constraints: [{ name: 'c', terms: { x: -1, y: 1 }, upper: 1 }], bounds: { y: { upper: 3 } } })
    expect(free.status).toBe('unbounded')
    if (free.status === 'unbounded') expect(free.variables).toEqual(['x'])
  })

  it('matches scipy.optimize.linprog (HiGHS) on a random LP', async () => {
    const why = pythonMissing(['scipy'])
    if (why) return skipNote('LP vs scipy linprog', why)
    const c = [4, 3, 6, 2, 5]
    const A = [[1, 2, 1, 1, 3], [3, 1, 2, 2, 1], [1, 1, 4, 1, 1]]
    const b = [20, 30, 25]
    const names = c.map((_, i) => `v${i}`)
    const ours = await solveLinearProgram({
      sense: 'maximize',
      objective: Object.fromEntries(names.map((n, i) => [n, c[i]])),
      constraints: A.map((r, i) => ({ name: `r${i}`, terms: Object.fromEntries(names.map((n, j) => [n, r[j]])), upper: b[i] })),
      bounds: Object.fromEntries(names.map((n) => [n, { upper: 8 }])),
    })
    const py = runPython(
      `import json,sys
from scipy.optimize import linprog
d=json.load(sys.stdin)
r=linprog([-v for v in d['c']],A_ub=d['A'],b_ub=d['b'],bounds=[(0,8)]*5,method='highs')
print(json.dumps({'fun':-r.fun}))`,
      { c, A, b },
    )
    expect(ours.status).toBe('optimal')
    if (ours.status === 'optimal') expect(ours.objective).toBeCloseTo(py.fun, 7)
  }, ORACLE_TIMEOUT)
})

describe('piecewise response curves', () => {
  const concave = (name: string, b1: number, b2: number, center: number, hi: number): DecisionVariable => ({
    name, curve: { variable: name, kind: 'quadratic', coefficients: [b1, b2], center }, lo: 0, hi, integer: false,
  })

  it('an LP for concave curves reaches the grid optimum of the real curves', async () => {
    const a = concave('tv', 3, -0.01, 50, 200)
    const b = concave('search', 5, -0.04, 30, 100)
    const { program, usesBinaries } = buildProgram([a, b], [{ name: 'budget', terms: { tv: 1, search: 1 }, upper: 150 }], 'maximize', { segments: 40 })
    expect(usesBinaries).toBe(false)
    const r = await solveLinearProgram(program)
    expect(r.status).toBe('optimal')
    if (r.status !== 'optimal') return
    // Test-side: brute force over a fine grid of the budget line and below.
    let best = -Infinity
    for (let x = 0; x <= 150; x += 0.25) for (let y = 0; y <= Math.min(100, 150 - x); y += 0.25) best = Math.max(best, curveValue(a.curve, x) + curveValue(b.curve, y))
    const got = curveValue(a.curve, decisionValue(r.values, 'tv')) + curveValue(b.curve, decisionValue(r.values, 'search'))
    expect(got).toBeGreaterThan(best - 0.5)
    expect(r.objective).toBeGreaterThan(best - 2)
  })

  it('a convex curve needs binaries to fill segments in order', async () => {
    const v: DecisionVariable = { name: 'x', curve: { variable: 'x', kind: 'quadratic', coefficients: [0, 0.5], center: 0 }, lo: 0, hi: 10, integer: false }
    expect(linearise(v.curve, 0, 10, 5).map((s) => s.slope)).toEqual([1, 3, 5, 7, 9])
    const { program, usesBinaries } = buildProgram([v], [{ name: 'cap', terms: { x: 1 }, upper: 6 }], 'maximize', { segments: 5 })
    expect(usesBinaries).toBe(true)
    const r = await solveLinearProgram(program)
    expect(r.status).toBe('optimal')
    if (r.status === 'optimal') {
      expect(decisionValue(r.values, 'x')).toBeCloseTo(6, 6)
      // at x = 6 the chords give 4·2 (segments 0–4) + 2·5 (half of segment 4–6 … ) = the curve at the breakpoints
      expect(r.objective).toBeCloseTo(1 * 2 + 3 * 2 + 5 * 2, 6)
    }
  })

  it('names the bound and the constraint that conflict', async () => {
    const v = { ...concave('tv', 3, -0.01, 50, 200), lo: 120 }
    const { program } = buildProgram([v], [{ name: 'budget', terms: { tv: 1 }, upper: 100 }], 'maximize')
    const r = await solveLinearProgram(program)
    expect(r.status).toBe('infeasible')
    if (r.status === 'infeasible') {
      expect(r.constraints).toContain('budget')
      expect([...r.constraints, ...r.bounds].some((n) => n === 'bounds.tv' || n === 'curve.tv')).toBe(true)
    }
  })
})
