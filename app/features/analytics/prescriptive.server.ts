import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, badRequest } from '#app/http/errors.server.ts'
import { signedAmount } from './diagnostic.server.ts'
import { quadForm } from './linalg.ts'
import { solveLinearProgram, type LinearProgram, type LpResult } from './optimize.ts'
import { AliasedFeatures, fitLinear } from './regression.ts'
import {
  basisNames, basisOf, buildProgram, curveValue, decisionValue, type Curve, type DecisionVariable, type ExtraConstraint,
} from './response-curves.ts'
import type { LinearProgramInput, PrescriptiveInput } from './schemas.ts'
import {
  asServer, dateColumnOf, elapsed, filterConditions, insufficientData, num, numericColumn, Params, q, resolveDataset, sqlMoments, whereOf,
} from './source.server.ts'
import { tCdf } from './stats.ts'

/**
 * POST /api/v1/analytics/prescriptive. A response model is fitted from the dataset — the objective's column as a sum
 * of one curve per decision variable (quadratic by default: diminishing returns with a peak) by OLS on Postgres
 * moments — then linearised piecewise and handed to HiGHS with the caller's constraints (budget, bounds, resources,
 * integrality, extra linear rows). The answer compares the optimum with the current level of each variable (its
 * mean over the latest rows) and says how sure the fit is that each change helps (the t distribution of the
 * predicted gain, from the coefficients' covariance). An explicit `lp` is solved as given.
 */

const conflict = (what: string, result: Extract<LpResult, { status: 'infeasible' | 'unbounded' }>, base: string) => {
  if (result.status === 'unbounded') {
    // Fitted programs name their columns x:<variable>, d:<variable>:<segment>, y:<variable>:<segment>.
    const vars = [...new Set(result.variables.map((v) => v.replace(/^[xdy]:([^:]+).*$/, '$1')))]
    return new ApiError(422, 'VALIDATION_ERROR', `${what} is unbounded: nothing limits ${vars.length ? vars.join(', ') : 'the objective'}`, {
      status: 'unbounded',
      field: vars.length ? `${base}bounds.${vars[0]}` : `${base}constraints`,
      variables: vars,
    })
  }
  const names = [...result.constraints, ...result.bounds]
  return new ApiError(422, 'VALIDATION_ERROR', `${what} is infeasible: ${names.length ? names.join(', ') : 'the constraints'} cannot all hold`, {
    status: 'infeasible',
    field: names.length ? `${base}${names[0]}` : `${base}constraints`,
    constraints: result.constraints,
    bounds: result.bounds,
  })
}

function solverInfo(r: Extract<LpResult, { status: 'optimal' }>, extra: Record<string, unknown> = {}) {
  return { name: 'HiGHS', status: 'optimal', kind: r.mip ? 'MIP' : 'LP', objective_value: r.objective, solve_ms: r.solve_ms, ...extra }
}

// ---------------------------------------------------------------- explicit programs

export async function solveExplicit(lp: LinearProgramInput, started: number) {
  const vars = new Set(Object.keys(lp.objective))
  lp.constraints.forEach((c) => Object.keys(c.coefficients).forEach((v) => vars.add(v)))
  Object.keys(lp.bounds).forEach((v) => vars.add(v))
  lp.integers.forEach((v, i) => {
    if (!vars.has(v)) throw badRequest(`lp.integers[${i}]`, `'${v}' is not a variable of the program`)
  })
  const names = new Set<string>()
  const constraints = lp.constraints.map((c, i) => {
    if (names.has(c.name)) throw badRequest(`lp.constraints[${i}].name`, `'${c.name}' is used twice`)
    names.add(c.name)
    if (c.equals === undefined && c.min === undefined && c.max === undefined) throw badRequest(`lp.constraints[${i}]`, 'give min, max or equals')
    if (c.equals !== undefined && (c.min !== undefined || c.max !== undefined)) throw badRequest(`lp.constraints[${i}]`, 'equals excludes min and max')
    if (c.min !== undefined && c.max !== undefined && c.min > c.max) throw badRequest(`lp.constraints[${i}]`, 'min is above max')
    return { name: c.name, terms: c.coefficients, lower: c.equals ?? c.min, upper: c.equals ?? c.max }
  })
  const bounds: LinearProgram['bounds'] = {}
  for (const [v, b] of Object.entries(lp.bounds)) {
    const lower = b.min === null ? -Infinity : (b.min ?? 0)
    const upper = b.max === null || b.max === undefined ? Infinity : b.max
    if (lower > upper) throw badRequest(`lp.bounds.${v}`, 'min is above max')
    bounds[v] = { lower, upper }
  }
  const program: LinearProgram = {
    sense: lp.sense,
    objective: Object.fromEntries([...vars].map((v) => [v, lp.objective[v] ?? 0])),
    constraints,
    bounds,
    integers: lp.integers,
    label: (v) => `bounds.${v}`,
  }
  const r = await solveLinearProgram(program)
  if (r.status === 'infeasible' || r.status === 'unbounded') throw conflict('The program', r, 'lp.')
  if (r.status !== 'optimal') throw new ApiError(500, 'INTERNAL_ERROR', r.message)
  return {
    status: 'success' as const,
    solver: solverInfo(r),
    optimal_solution: { ...r.values, objective_value: r.objective },
    constraints: constraints.map((c) => ({ name: c.name, activity: r.activities[c.name], dual: r.duals?.[c.name] ?? null })),
    execution_time_ms: elapsed(started),
  }
}

// ---------------------------------------------------------------- fitted programs

const pct = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toLocaleString('en-US', { maximumFractionDigits: Math.abs(v) >= 10 ? 0 : 1 })}%`

export async function prescribe(tx: Sql, caller: Caller, input: PrescriptiveInput) {
  const started = performance.now()
  if (input.lp) return solveExplicit(input.lp, started)
  if (input.dataset_id === undefined) throw badRequest('dataset_id', 'is required (or give an explicit lp)')
  if (!input.objective && !input.target) throw badRequest('objective', 'is required: maximize_<metric> or minimize_<metric>')
  if (!input.variables?.length) throw badRequest('variables', 'name the decision variables (numeric columns)')
  const src = await resolveDataset(tx, input.dataset_id)
  const sense = input.objective?.startsWith('minimize_') ? 'minimize' : 'maximize'
  const targetName = input.target ?? input.objective!.replace(/^(maximize|minimize)_/, '')
  if (!src.columns.some((c) => c.column_name === targetName)) {
    throw badRequest(input.target ? 'target' : 'objective', `the dataset has no column '${targetName}' to ${sense}; name it with target`)
  }
  const target = numericColumn(src, targetName, input.target ? 'target' : 'objective')
  const variables = [...new Set(input.variables)]
  variables.forEach((v, i) => {
    numericColumn(src, v, `variables[${i}]`)
    if (v === target.column_name) throw badRequest(`variables[${i}]`, `'${v}' is the objective's column`)
  })
  const cons = input.constraints
  const isVar = (v: string) => variables.includes(v)
  const checkVars = (names: string[], field: string) =>
    names.forEach((v) => {
      if (!isVar(v)) throw badRequest(`${field}.${v}`, `'${v}' is not one of the variables`)
    })
  checkVars(Object.keys(cons.bounds ?? {}), 'constraints.bounds')
  checkVars(Object.keys(cons.costs ?? {}), 'constraints.costs')
  ;(cons.integer ?? []).forEach((v, i) => checkVars([v], `constraints.integer[${i}]`))
  ;(cons.budget_variables ?? []).forEach((v, i) => checkVars([v], `constraints.budget_variables[${i}]`))
  cons.linear?.forEach((l, i) => checkVars(Object.keys(l.coefficients), `constraints.linear[${i}].coefficients`))
  const resourceColumns: string[] = []
  cons.resources?.forEach((r, i) => {
    if (typeof r === 'string') {
      if (!isVar(r)) {
        numericColumn(src, r, `constraints.resources[${i}]`)
        resourceColumns.push(r)
      }
    } else checkVars(Object.keys(r.usage), `constraints.resources[${i}].usage`)
  })

  const params = new Params()
  const conds = filterConditions(src, input.filters, params)
  const dc = dateColumnOf(src, input.date_column ?? input.filters?.date_column, 'date_column')
  const complete = [...conds, `${q(target)} is not null`, ...variables.map((v) => `${q(v)} is not null`), ...resourceColumns.map((r) => `${q(r)} is not null`)]
  const order = dc ? `${q(dc)} desc nulls last, _hd_file_id desc, _hd_row desc` : '_hd_file_id desc, _hd_row desc'

  const work = await asServer(tx, caller, async () => {
    const cols = [...variables, ...resourceColumns]
    const { rows: pre } = await tx.query<Record<string, number>>(
      `select count(*)::float8 as n, ${cols.map((c, i) => `avg(${num(c)}) as m${i}, min(${num(c)}) as lo${i}, max(${num(c)}) as hi${i}`).join(', ')}
         from ${src.table} ${whereOf(complete)}`,
      params.values,
    )
    const { rows: base } = await tx.query<Record<string, number>>(
      `select ${variables.map((v, i) => `avg(b${i}) as b${i}`).join(', ')}
         from (select ${variables.map((v, i) => `${num(v)} as b${i}`).join(', ')} from ${src.table} ${whereOf(complete)} order by ${order} limit ${input.baseline_rows}) s`,
      params.values,
    )
    const stats = cols.map((c, i) => ({ column: c, mean: Number(pre[0][`m${i}`]), min: Number(pre[0][`lo${i}`]), max: Number(pre[0][`hi${i}`]) }))
    const n = Number(pre[0].n)
    if (n < variables.length * 2 + 3) return { n, stats, baseline: [] as number[], moments: null }
    // The curves' basis columns, and the raw variables for the resource usage models.
    const exprs: { name: string; sql: string }[] = []
    variables.forEach((v, i) => {
      const s = stats[i]
      const x = num(v)
      if (input.response_curve === 'quadratic') exprs.push({ name: v, sql: x }, { name: `${v}^2`, sql: `power(${x} - (${s.mean})::float8, 2)` })
      else if (input.response_curve === 'log') {
        if (s.min < 0) throw badRequest(`variables[${i}]`, `a log curve needs non-negative values; '${v}' goes down to ${s.min}`)
        exprs.push({ name: `log1p(${v})`, sql: `ln(1 + ${x} / (${s.mean || 1})::float8)` })
        exprs.push({ name: v, sql: x })
      } else exprs.push({ name: v, sql: x })
    })
    exprs.push({ name: '__y', sql: num(target) })
    resourceColumns.forEach((r) => exprs.push({ name: r, sql: num(r) }))
    const moments = await sqlMoments(tx, src.table, exprs, complete, params)
    return { n, stats, baseline: variables.map((_, i) => Number(base[0][`b${i}`])), moments }
  })
  if (!work.moments) throw insufficientData(`${work.n} complete rows: fitting ${variables.length} response curve(s) needs at least ${variables.length * 2 + 3}`, { rows: work.n, field: 'variables' })

  const kind = input.response_curve
  const basisCols = variables.flatMap((v) => basisNames(v, kind))
  let fit
  try {
    fit = fitLinear(work.moments, basisCols, '__y')
  } catch (e) {
    if (e instanceof AliasedFeatures) {
      const names = [...new Set(e.features.map((f) => variables.find((v) => basisNames(v, kind).includes(f))!))]
      throw badRequest('variables', `constant or collinear in the data: ${names.join(', ')}`, { variables: names })
    }
    throw e
  }
  const curves: Curve[] = variables.map((v, i) => {
    const at = basisCols.indexOf(basisNames(v, kind)[0])
    const width = basisNames(v, kind).length
    return { variable: v, kind, coefficients: fit.coefficients.slice(at, at + width), center: work.stats[i].mean || 1 }
  })
  const dvars: DecisionVariable[] = variables.map((v, i) => {
    const b = cons.bounds?.[v] ?? {}
    const lo = b.min ?? work.stats[i].min
    const hi = b.max ?? work.stats[i].max
    if (lo > hi) throw badRequest(`constraints.bounds.${v}`, `min ${lo} is above max ${hi}`)
    return { name: v, curve: curves[i], lo, hi, integer: (cons.integer ?? []).includes(v) }
  })

  const extra: ExtraConstraint[] = []
  const cost = (v: string) => cons.costs?.[v] ?? 1
  if (cons.budget !== undefined) {
    const spend = cons.budget_variables ?? variables
    extra.push({ name: 'budget', terms: Object.fromEntries(spend.map((v) => [v, cost(v)])), upper: cons.budget })
  }
  cons.resources?.forEach((r, i) => {
    if (typeof r !== 'string') {
      extra.push({ name: `resources.${r.name}`, terms: r.usage, upper: r.limit })
    } else if (isVar(r)) {
      extra.push({ name: `resources.${r}`, terms: { [r]: 1 }, upper: work.baseline[variables.indexOf(r)] })
    } else {
      // The resource's use as a linear function of the variables, capped at the most the data has seen.
      let usage
      try {
        usage = fitLinear(work.moments!, variables, r)
      } catch {
        throw badRequest(`constraints.resources[${i}]`, `'${r}' cannot be modelled from the variables (collinear)`)
      }
      const max = work.stats[variables.length + resourceColumns.indexOf(r)].max
      extra.push({ name: `resources.${r}`, terms: Object.fromEntries(variables.map((v, j) => [v, usage.coefficients[j]])), upper: max - usage.intercept })
    }
  })
  cons.linear?.forEach((l) => extra.push({ name: l.name, terms: l.coefficients, lower: l.min, upper: l.max }))

  const { program, usesBinaries } = buildProgram(dvars, extra, sense, { segments: input.segments, constant: fit.intercept })
  const r = await solveLinearProgram(program)
  if (r.status === 'infeasible' || r.status === 'unbounded') throw conflict('The optimisation', r, 'constraints.')
  if (r.status !== 'optimal') throw new ApiError(500, 'INTERNAL_ERROR', r.message)

  // The real (not piecewise) response at the optimum and at the current levels; the gain's uncertainty from Cov(β).
  const xStar = variables.map((v) => decisionValue(r.values, v))
  const x0 = work.baseline
  const respond = (x: number[]) => fit.intercept + curves.reduce((s, c, i) => s + curveValue(c, x[i]), 0)
  const basisAt = (x: number[]) => variables.flatMap((v, i) => basisOf(kind, x[i], curves[i].center))
  const d = basisAt(xStar).map((b, i) => b - basisAt(x0)[i])
  const gain = respond(xStar) - respond(x0)
  const sure = (delta: number, dv: number[]) => {
    const se = Math.sqrt(Math.max(quadForm(fit.covBeta, dv), 0))
    return se > 0 ? tCdf(Math.abs(delta) / se, fit.df) : 1
  }
  const budgetVars = new Set(cons.budget !== undefined ? (cons.budget_variables ?? variables) : Object.keys(cons.costs ?? {}))
  const recommendations = variables.map((v, i) => {
    const change = xStar[i] - x0[i]
    const rel = x0[i] !== 0 ? (change / Math.abs(x0[i])) * 100 : null
    const dv = d.map((val, j) => (basisNames(v, kind).includes(basisCols[j]) ? val : 0))
    const effect = curveValue(curves[i], xStar[i]) - curveValue(curves[i], x0[i])
    const moved = Math.abs(change) > 1e-9 * Math.max(1, Math.abs(x0[i])) && (rel === null || Math.abs(rel) >= 0.5)
    return {
      action: `${moved ? (change > 0 ? 'increase' : 'decrease') : 'maintain'}_${v}`,
      variable: v,
      change: rel === null ? signedAmount(change) : pct(rel),
      current_value: x0[i],
      recommended_value: xStar[i],
      expected_impact: effect,
      expected_roi: budgetVars.has(v) && moved ? effect / (cost(v) * change) : null,
      confidence: moved ? sure(effect, dv) : null,
    }
  })
  const targetLabel = target.column_name.replace(/_/g, ' ')
  return {
    status: 'success' as const,
    objective: `${sense}_${target.column_name}`,
    recommendations,
    optimal_solution: {
      ...Object.fromEntries(variables.map((v, i) => [v, xStar[i]])),
      expected_outcome: `${signedAmount(gain)} ${targetLabel}`,
      expected_outcome_value: gain,
      expected_outcome_confidence: sure(gain, d),
      predicted_value: respond(xStar),
      baseline_value: respond(x0),
    },
    model: {
      response_curve: kind,
      r2: fit.r2,
      n: fit.n,
      curves: curves.map((c, i) => ({ variable: c.variable, coefficients: c.coefficients, center: c.center, domain: [dvars[i].lo, dvars[i].hi] })),
      intercept: fit.intercept,
    },
    constraints: extra.map((c) => ({ name: c.name, activity: r.activities[c.name], limit: c.upper ?? null, minimum: c.lower ?? null, dual: r.duals?.[c.name] ?? null })),
    solver: solverInfo(r, { segments: input.segments, binaries: usesBinaries }),
    execution_time_ms: elapsed(started),
  }
}
