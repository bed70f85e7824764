import type { LinearConstraint, LinearProgram } from './optimize.ts'

/**
 * Response curves for the prescriptive model and their piecewise-linear form. Each decision variable x acts on the
 * objective through its own curve, fitted by OLS from the data:
 *   quadratic: f(x) = b₁·x + b₂·(x − c)²   (c: the variable's mean; b₂ < 0 is diminishing returns with a peak)
 *   log:       f(x) = b·ln(1 + x / s)       (s: the variable's mean; always increasing, ever more slowly)
 * On its domain [lo, hi] a curve is replaced by `segments` chords. When the chords' slopes already fall (maximise)
 * or rise (minimise) the LP fills them in order by itself; otherwise binaries force the order (a MIP).
 */

export type CurveKind = 'quadratic' | 'log' | 'linear'

export interface Curve {
  variable: string
  kind: CurveKind
  /** Coefficients of the curve's basis columns (see basisOf). */
  coefficients: number[]
  /** Centre (quadratic) or scale (log). */
  center: number
}

/** Names of a curve's basis columns, as the moments know them. */
export function basisNames(variable: string, kind: CurveKind): string[] {
  if (kind === 'quadratic') return [`${variable}`, `${variable}^2`]
  if (kind === 'log') return [`log1p(${variable})`]
  return [variable]
}

export function basisOf(kind: CurveKind, x: number, center: number): number[] {
  if (kind === 'quadratic') return [x, (x - center) ** 2]
  if (kind === 'log') return [Math.log1p(x / center)]
  return [x]
}

export function curveValue(c: Curve, x: number): number {
  const b = basisOf(c.kind, x, c.center)
  return b.reduce((s, v, i) => s + v * c.coefficients[i], 0)
}

export interface Segment {
  from: number
  to: number
  slope: number
}

export function linearise(c: Curve, lo: number, hi: number, segments: number): Segment[] {
  if (hi <= lo) return []
  const n = c.kind === 'linear' ? 1 : segments
  const out: Segment[] = []
  for (let s = 0; s < n; s++) {
    const from = lo + ((hi - lo) * s) / n
    const to = s === n - 1 ? hi : lo + ((hi - lo) * (s + 1)) / n
    out.push({ from, to, slope: (curveValue(c, to) - curveValue(c, from)) / (to - from) })
  }
  return out
}

/** True when the LP alone picks the segments in order: slopes non-increasing (maximise) or non-decreasing (minimise). */
export function fillsInOrder(segs: Segment[], sense: 'maximize' | 'minimize') {
  for (let i = 1; i < segs.length; i++) {
    const d = segs[i].slope - segs[i - 1].slope
    if (sense === 'maximize' ? d > 1e-12 * Math.abs(segs[i].slope || 1) : d < -1e-12 * Math.abs(segs[i].slope || 1)) return false
  }
  return true
}

export interface DecisionVariable {
  name: string
  curve: Curve
  lo: number
  hi: number
  integer: boolean
}

export interface ExtraConstraint {
  /** Shown to the caller when it is part of a conflict, e.g. "budget" or "resources.staff". */
  name: string
  /** Coefficient per decision variable name. */
  terms: Record<string, number>
  lower?: number
  upper?: number
}

const xName = (v: string) => `x:${v}`

/**
 * The program: maximise/minimise Σ f_j(x_j) (+ the constant) with x_j = lo_j + Σ_s δ_js, 0 ≤ δ_js ≤ width, plus the
 * caller's constraints over the x_j. Bounds of x_j carry the variable's domain, so a conflict names `bounds.<var>`.
 */
export function buildProgram(
  vars: DecisionVariable[],
  constraints: ExtraConstraint[],
  sense: 'maximize' | 'minimize',
  opts: { segments?: number; constant?: number } = {},
): { program: LinearProgram; usesBinaries: boolean } {
  const objective: Record<string, number> = {}
  const bounds: Record<string, { lower?: number; upper?: number }> = {}
  const rows: LinearConstraint[] = []
  const integers: string[] = []
  let offset = opts.constant ?? 0
  let usesBinaries = false
  for (const v of vars) {
    const x = xName(v.name)
    objective[x] = 0
    bounds[x] = { lower: v.lo, upper: v.hi }
    if (v.integer) integers.push(x)
    offset += curveValue(v.curve, v.lo)
    const segs = linearise(v.curve, v.lo, v.hi, opts.segments ?? 24)
    if (!segs.length) continue
    const def: Record<string, number> = { [x]: 1 }
    segs.forEach((s, i) => {
      const d = `d:${v.name}:${i}`
      objective[d] = s.slope
      bounds[d] = { lower: 0, upper: s.to - s.from }
      def[d] = -1
    })
    rows.push({ name: `curve.${v.name}`, terms: def, lower: v.lo, upper: v.lo })
    if (!fillsInOrder(segs, sense)) {
      // Incremental formulation: segment i+1 may be used only once segment i is full (y_i = 1).
      usesBinaries = true
      for (let i = 0; i + 1 < segs.length; i++) {
        const y = `y:${v.name}:${i}`
        objective[y] = 0
        bounds[y] = { lower: 0, upper: 1 }
        integers.push(y)
        const w = segs[i].to - segs[i].from
        const w2 = segs[i + 1].to - segs[i + 1].from
        rows.push({ name: `curve.${v.name}`, terms: { [`d:${v.name}:${i}`]: 1, [y]: -w }, lower: 0 })
        rows.push({ name: `curve.${v.name}`, terms: { [`d:${v.name}:${i + 1}`]: 1, [y]: -w2 }, upper: 0 })
      }
    }
  }
  for (const c of constraints) {
    const terms: Record<string, number> = {}
    for (const [v, coef] of Object.entries(c.terms)) terms[xName(v)] = coef
    rows.push({ name: c.name, terms, lower: c.lower, upper: c.upper })
  }
  return {
    program: {
      sense,
      objective,
      offset,
      constraints: rows,
      bounds,
      integers,
      label: (n) => (n.startsWith('x:') ? `bounds.${n.slice(2)}` : `curve.${n.split(':')[1]}`),
    },
    usesBinaries,
  }
}

export const decisionValue = (values: Record<string, number>, variable: string) => values[xName(variable)]
