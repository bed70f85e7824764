import highsLoader from 'highs'

/**
 * Linear and mixed-integer programs solved by HiGHS (WASM). A program is written with named variables and
 * named constraints; an infeasible one is explained by HiGHS's irreducible infeasible subsystem (the constraints
 * and bounds that cannot hold together), an unbounded one by the variables along its primal ray.
 */

export interface LinearConstraint {
  name: string
  terms: Record<string, number>
  /** lower ≤ Σ terms ≤ upper; either may be omitted. */
  lower?: number
  upper?: number
}

export interface LinearProgram {
  sense: 'maximize' | 'minimize'
  /** Objective coefficient of each variable; every variable of the program is named here (0 if it has none). */
  objective: Record<string, number>
  offset?: number
  constraints: LinearConstraint[]
  /** Bounds per variable; a variable without an entry is in [0, ∞). */
  bounds?: Record<string, { lower?: number; upper?: number }>
  integers?: string[]
  /** Variable names shown to callers for bounds in a conflict (defaults to the variable's own name). */
  label?: (variable: string) => string
}

export type LpResult =
  | { status: 'optimal'; objective: number; values: Record<string, number>; activities: Record<string, number>; duals: Record<string, number> | null; mip: boolean; solve_ms: number }
  | { status: 'infeasible'; constraints: string[]; bounds: string[]; solve_ms: number }
  | { status: 'unbounded'; variables: string[]; solve_ms: number }
  | { status: 'failed'; message: string; solve_ms: number }

type Highs = Awaited<ReturnType<typeof highsLoader>>
let loading: Promise<Highs> | null = null
export function loadSolver(): Promise<Highs> {
  loading ??= highsLoader()
  return loading
}

export async function solveLinearProgram(lp: LinearProgram): Promise<LpResult> {
  const highs = await loadSolver()
  const started = performance.now()
  const names = Object.keys(lp.objective)
  const index = new Map(names.map((n, i) => [n, i]))
  for (const c of lp.constraints) {
    for (const v of Object.keys(c.terms)) if (!index.has(v)) throw new Error(`constraint ${c.name} names unknown variable ${v}`)
  }
  for (const v of Object.keys(lp.bounds ?? {})) if (!index.has(v)) throw new Error(`bounds name unknown variable ${v}`)
  const inf = highs.infinity
  const starts = [0]
  const indices: number[] = []
  const values: number[] = []
  for (const c of lp.constraints) {
    const terms = Object.entries(c.terms).filter(([, v]) => v !== 0).sort((a, b) => index.get(a[0])! - index.get(b[0])!)
    for (const [v, coef] of terms) {
      indices.push(index.get(v)!)
      values.push(coef)
    }
    starts.push(indices.length)
  }
  const ints = new Set(lp.integers ?? [])
  const mip = ints.size > 0
  const bound = (v: string) => lp.bounds?.[v] ?? {}
  const model = {
    numCols: names.length,
    numRows: lp.constraints.length,
    sense: lp.sense === 'maximize' ? highs.constants.objectiveSense.maximize : highs.constants.objectiveSense.minimize,
    offset: lp.offset ?? 0,
    colCost: names.map((n) => lp.objective[n]),
    colLower: names.map((n) => bound(n).lower ?? 0).map((x) => (x === -Infinity ? -inf : x)),
    colUpper: names.map((n) => bound(n).upper ?? inf).map((x) => (x === Infinity ? inf : x)),
    rowLower: lp.constraints.map((c) => c.lower ?? -inf),
    rowUpper: lp.constraints.map((c) => c.upper ?? inf),
    matrix: { format: 'csr' as const, numRows: lp.constraints.length, numCols: names.length, starts, indices, values },
    integrality: names.map((n) => (ints.has(n) ? highs.constants.variableType.integer : highs.constants.variableType.continuous)),
  }
  const label = lp.label ?? ((v: string) => v)
  return highs.withModel(model as Parameters<Highs['createModel']>[0] & object, (m): LpResult => {
    m.options.set({ output_flag: false, iis_strategy: highs.constants.iis.strategyRowPriority })
    m.run()
    const status = m.getModelStatus()
    const ms = () => Math.round((performance.now() - started) * 100) / 100
    const S = highs.constants.modelStatus
    if (status === S.optimal) {
      const sol = m.getSolution()
      const valuesOut: Record<string, number> = {}
      names.forEach((n, i) => (valuesOut[n] = sol.colValue[i]))
      const activities: Record<string, number> = {}
      const duals: Record<string, number> = {}
      lp.constraints.forEach((c, i) => {
        activities[c.name] = sol.rowValue[i]
        duals[c.name] = sol.rowDual[i]
      })
      return { status: 'optimal', objective: m.getObjectiveValue(), values: valuesOut, activities, duals: mip ? null : duals, mip, solve_ms: ms() }
    }
    if (status === S.infeasible || (status === S.unboundedOrInfeasible && !hasRay(m))) {
      try {
        const iis = m.getIis()
        const rows = [...new Set([...iis.rowIndex].map((i) => lp.constraints[i].name))]
        const cols = [...new Set([...iis.colIndex].map((i) => label(names[i])))]
        return { status: 'infeasible', constraints: rows, bounds: cols, solve_ms: ms() }
      } catch {
        return { status: 'infeasible', constraints: [], bounds: [], solve_ms: ms() }
      }
    }
    if (status === S.unbounded || status === S.unboundedOrInfeasible) {
      const vars: string[] = []
      try {
        const ray = m.getPrimalRay() as { values?: Float64Array }
        ray.values?.forEach((v, i) => {
          if (Math.abs(v) > 1e-9) vars.push(names[i])
        })
      } catch {}
      return { status: 'unbounded', variables: vars, solve_ms: ms() }
    }
    return { status: 'failed', message: `HiGHS ended with model status ${status}`, solve_ms: ms() }
  })
}

function hasRay(m: { getPrimalRay(): unknown }) {
  try {
    const r = m.getPrimalRay() as { values?: Float64Array }
    return !!r.values?.some((v) => v !== 0)
  } catch {
    return false
  }
}
