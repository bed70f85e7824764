import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { badRequest } from '#app/http/errors.server.ts'
import { periodSql } from './periods.ts'
import { r2OfSubset } from './regression.ts'
import type { DiagnosticInput } from './schemas.ts'
import { shapleyValues } from './shapley.ts'
import {
  asServer, columnOf, literal, dateColumnOf, elapsed, filterConditions, insufficientData, NUMERIC, num, Params, q, resolveDataset, sqlMoments, whereOf,
  type DatasetSource,
} from './source.server.ts'
import { benjaminiHochberg, correlationP, fUpperP } from './stats.ts'
import { sweep, sub } from './linalg.ts'

/**
 * POST /api/v1/analytics/diagnostic: how each factor goes with the target. Postgres computes, over the rows where the
 * target and every factor are present, the moments of all factor columns (Pearson's r, the regressions) and the
 * correlations of average ranks (Spearman's ρ). Two-sided p-values from the t distribution (the F test for a
 * categorical or seasonal factor, whose correlation is the correlation ratio η), Benjamini–Hochberg adjusted over
 * the factors tested. Root causes: each factor's Shapley share of the R² of the joint model, and its impact in the
 * target's units — the factor's trend over the analysed period times its coefficient (per standard deviation when
 * the data has no dates).
 */

const MAX_COLUMNS = 60
/** Spearman's ranks are exact up to this many rows, else those of a seeded sample of about this many. */
export const SPEARMAN_EXACT_MAX = 250_000
const MAX_LEVELS = 50

interface Factor {
  name: string
  kind: 'numeric' | 'categorical'
  /** Column names in the moment set and their SQL. */
  columns: { name: string; sql: string }[]
  /** The SQL the rows must have non-null. */
  needs: string[]
  /** Spearman's ρ applies (an ordered numeric factor). */
  ranked?: string
}

const significance = (p: number, alpha: number) =>
  !Number.isFinite(p) ? 'none' : p <= Math.min(0.001, alpha) ? 'high' : p <= Math.min(0.01, alpha) ? 'medium' : p <= alpha ? 'low' : 'none'

export function signedAmount(v: number): string {
  if (!Number.isFinite(v)) return '—'
  const abs = Math.abs(v).toLocaleString('en-US', { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2 })
  return `${v < 0 ? '−' : '+'}${abs}`
}

async function factorsOf(tx: Sql, src: DatasetSource, input: DiagnosticInput, conds: string[], params: Params) {
  const dc = dateColumnOf(src, input.date_column ?? input.filters?.date_column, 'date_column')
  const ts = dc ? (dc.data_type === 'Date' ? `${q(dc)}::timestamp` : `(${q(dc)} at time zone 'UTC')`) : null
  const dummies = (name: string, part: 'isodow' | 'month') => {
    const levels = part === 'isodow' ? [2, 3, 4, 5, 6, 7] : [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    return levels.map((l) => ({ name: `${name}=${l}`, sql: `(date_part('${part}', ${ts}) = ${l})::int::float8` }))
  }
  const out: Factor[] = []
  for (const [i, name] of input.potential_factors.entries()) {
    const field = `potential_factors[${i}]`
    if (name === input.target_metric) throw badRequest(field, `'${name}' is the target`)
    const col = src.columns.find((c) => c.column_name === name)
    if (!col && ['seasonality', 'day_of_week', 'month', 'trend'].includes(name)) {
      if (!ts) throw badRequest(field, `'${name}' is derived from dates; the dataset has no date column (name one with date_column)`)
      if (name === 'trend') out.push({ name, kind: 'numeric', columns: [{ name, sql: `${periodSql('day', ts)}::float8` }], needs: [q(dc!)], ranked: `${periodSql('day', ts)}::float8` })
      else {
        const cols = name === 'day_of_week' ? dummies(name, 'isodow') : name === 'month' ? dummies(name, 'month') : [...dummies('day_of_week', 'isodow'), ...dummies('month', 'month')]
        out.push({ name, kind: 'categorical', columns: cols, needs: [q(dc!)] })
      }
      continue
    }
    const c = columnOf(src, name, field)
    if (NUMERIC.includes(c.data_type)) out.push({ name, kind: 'numeric', columns: [{ name, sql: num(c) }], needs: [q(c)], ranked: num(c) })
    else if (c.data_type === 'Boolean') out.push({ name, kind: 'numeric', columns: [{ name, sql: `${q(c)}::int::float8` }], needs: [q(c)], ranked: `${q(c)}::int::float8` })
    else {
      // A categorical factor: one dummy per level but the first (at most MAX_LEVELS levels).
      const text = c.data_type === 'String' ? q(c) : `${q(c)}::text`
      const { rows } = await tx.query<{ v: string }>(
        `select distinct ${text} as v from ${src.table} ${whereOf([...conds, `${q(c)} is not null`])} order by 1 limit ${MAX_LEVELS + 1}`,
        params.values,
      )
      if (rows.length > MAX_LEVELS) throw badRequest(field, `'${name}' has more than ${MAX_LEVELS} distinct values; a categorical factor needs fewer`)
      const levels = rows.slice(1).map((r) => r.v)
      out.push({ name, kind: 'categorical', columns: levels.map((l) => ({ name: `${name}=${l}`, sql: `(${text} = ${literal(l)})::int::float8` })), needs: [q(c)] })
    }
  }
  const total = out.reduce((s, f) => s + f.columns.length, 0)
  if (total > MAX_COLUMNS) throw badRequest('potential_factors', `the factors need ${total} model columns (categories and seasons count one per level); at most ${MAX_COLUMNS}`)
  return { factors: out, ts, dc }
}

export async function diagnose(tx: Sql, caller: Caller, input: DiagnosticInput) {
  const started = performance.now()
  const src = await resolveDataset(tx, input.dataset_id)
  const target = columnOf(src, input.target_metric, 'target_metric')
  if (!NUMERIC.includes(target.data_type)) throw badRequest('target_metric', `'${target.column_name}' is ${target.data_type}, not a number`)
  const params = new Params()
  const conds = filterConditions(src, input.filters, params)

  const work = await asServer(tx, caller, async () => {
    const { factors, ts } = await factorsOf(tx, src, input, conds, params)
    const complete = [...conds, `${q(target)} is not null`, ...factors.flatMap((f) => f.needs.map((n) => `${n} is not null`))]
    const exprs = [{ name: '__y', sql: num(target) }, ...factors.flatMap((f) => f.columns)]
    if (ts) exprs.push({ name: '__t', sql: `${periodSql('day', ts)}::float8` })
    const m = await sqlMoments(tx, src.table, exprs, complete, params)
    // Spearman: Pearson's r of average ranks (ties share the mean of their ranks, as SciPy's rankdata): with the
    // window ordered by x, rank() is a tie's first rank and count(*) its last. Each column costs a sort, so above
    // SPEARMAN_EXACT_MAX rows the ranks are those of a seeded Bernoulli sample of about that many rows.
    const ranked = factors.filter((f) => f.ranked)
    let rho: Record<string, number | null> = {}
    let rankRows = 0
    if (ranked.length && m.n >= 3) {
      const pct = m.n > SPEARMAN_EXACT_MAX ? Math.min(100, (100 * SPEARMAN_EXACT_MAX) / Math.max(src.rowCount, m.n)) : 100
      const from = pct < 100 ? `${src.table} tablesample bernoulli (${pct}) repeatable (42)` : src.table
      const avgRank = (w: string) => `((rank() over ${w}) + (count(*) over ${w}))::float8 / 2`
      const cols = [`${avgRank('wy')} as ry`, ...ranked.map((_, i) => `${avgRank(`w${i}`)} as r${i}`)]
      const windows = [`wy as (order by y)`, ...ranked.map((_, i) => `w${i} as (order by x${i})`)]
      const inner = `select ${num(target)} as y${ranked.map((f, i) => `, ${f.ranked} as x${i}`).join('')} from ${from} ${whereOf(complete)}`
      const { rows } = await tx.query<Record<string, number | null>>(
        `select count(*)::float8 as n, ${ranked.map((_, i) => `corr(ry, r${i}) as s${i}`).join(', ')}
           from (select ${cols.join(', ')} from (${inner}) c window ${windows.join(', ')}) r`,
        params.values,
      )
      rankRows = Number(rows[0].n)
      rho = Object.fromEntries(ranked.map((f, i) => [f.name, rows[0][`s${i}`]]))
    }
    return { factors, m, rho, rankRows }
  })

  const { factors, m, rho, rankRows } = work
  const n = m.n
  const used = factors.reduce((s, f) => s + f.columns.length, 0)
  if (n < used + 3) throw insufficientData(`${n} complete rows for ${used} model column(s): too few to test the factors`, { rows: n, field: 'potential_factors' })
  const yi = m.names.indexOf('__y')
  const colIdx = (f: Factor) => f.columns.map((c) => m.names.indexOf(c.name))
  const syy = m.cross[yi][yi]
  if (!(syy > 0)) throw insufficientData(`'${input.target_metric}' does not vary over the rows analysed`, { field: 'target_metric' })

  // Correlations and their p-values.
  const tested = factors.map((f) => {
    const idx = colIdx(f)
    if (f.kind === 'numeric') {
      const sxx = m.cross[idx[0]][idx[0]]
      const r = sxx > 0 ? m.cross[idx[0]][yi] / Math.sqrt(sxx * syy) : NaN
      const s = rho[f.name] ?? NaN
      return { f, r, p: correlationP(r, n), rs: s, ps: correlationP(s, rankRows), dfModel: 1 }
    }
    const r2 = r2OfSubset(m, idx, yi)
    const q = sweep(sub(m.cross, idx), idx.map((_, i) => i)).swept.length
    const fstat = q > 0 ? r2 / q / ((1 - r2) / (n - q - 1)) : NaN
    return { f, r: Math.sqrt(r2), p: q > 0 ? fUpperP(fstat, q, n - q - 1) : NaN, rs: NaN, ps: NaN, dfModel: q }
  })
  const adj = benjaminiHochberg(tested.map((t) => t.p))
  const adjS = benjaminiHochberg(tested.map((t) => t.ps))
  const nullable = (v: number) => (Number.isFinite(v) ? v : null)
  const correlations = tested.map((t, i) => ({
    factor: t.f.name,
    correlation: nullable(t.r),
    p_value: nullable(t.p),
    adjusted_p_value: nullable(adj[i]),
    significance: significance(adj[i], input.significance_level),
    method: t.f.kind === 'numeric' ? 'pearson' : 'correlation_ratio',
    ...(t.f.kind === 'numeric'
      ? { spearman: { correlation: nullable(t.rs), p_value: nullable(t.ps), adjusted_p_value: nullable(adjS[i]), ...(rankRows < n ? { sample_size: rankRows } : {}) } }
      : { levels: t.dfModel + 1 }),
    n,
  }))

  // Root causes: Shapley shares of the joint model's R², and impacts from its coefficients.
  const groups = factors.map(colIdx)
  const shap = shapleyValues(factors.length, (mask) => r2OfSubset(m, groups.filter((_, j) => mask & (1 << j)).flat(), yi))
  const allCols = groups.flat()
  const full = sweep(sub(m.cross, [...allCols, yi]), allCols.map((_, i) => i))
  const r2 = Math.min(Math.max(1 - full.m[allCols.length][allCols.length] / syy, 0), 1)
  const beta = (col: number) => {
    const at = allCols.indexOf(col)
    return full.aliased.includes(at) ? 0 : full.m[at][allCols.length]
  }
  const ti = m.names.indexOf('__t')
  const span = ti >= 0 ? m.max![ti] - m.min![ti] : 0 // days from the first to the last date analysed
  const root = factors.map((f, j) => {
    const idx = groups[j]
    let impact: number
    let basis: string
    if (f.kind === 'categorical') {
      const effects = [0, ...idx.map(beta)]
      impact = Math.max(...effects) - Math.min(...effects)
      basis = 'difference between the strongest and the weakest level'
    } else if (ti >= 0) {
      // The factor's own linear trend over the analysed period, times its coefficient.
      const slope = m.cross[ti][ti] > 0 ? m.cross[ti][idx[0]] / m.cross[ti][ti] : 0
      impact = beta(idx[0]) * (f.name === 'trend' ? span : slope * span)
      basis = 'change over the analysed period'
    } else {
      impact = beta(idx[0]) * Math.sqrt(m.cross[idx[0]][idx[0]] / (n - 1))
      basis = 'one standard deviation'
    }
    return {
      factor: f.name,
      contribution: r2 > 0 ? shap[j] / r2 : 0,
      r2_share: shap[j],
      impact: f.kind === 'categorical' ? `±${Math.abs(impact).toLocaleString('en-US', { maximumFractionDigits: Math.abs(impact) >= 100 ? 0 : 2 })}` : signedAmount(impact),
      impact_value: impact,
      impact_basis: basis,
      ...(f.kind === 'numeric' ? { coefficient: beta(idx[0]) } : {}),
    }
  })
  root.sort((a, b) => b.contribution - a.contribution)
  const adjR2 = n - full.swept.length - 1 > 0 ? 1 - ((1 - r2) * (n - 1)) / (n - full.swept.length - 1) : null
  return {
    status: 'success' as const,
    target_metric: input.target_metric,
    analysis_type: input.analysis_type,
    correlations,
    root_causes: root,
    model: { r2, adj_r2: adjR2, n, columns: full.swept.length },
    execution_time_ms: elapsed(started),
  }
}

/**
 * Pearson correlations between every pair of numeric columns (the Analytics page's heatmap), from one moments pass over
 * the rows where all of them are present; p-values from the t distribution, BH-adjusted over the pairs.
 */
export async function correlationMatrix(tx: Sql, caller: Caller, input: { dataset_id: unknown; columns?: string[]; filters?: DiagnosticInput['filters'] }) {
  const started = performance.now()
  const src = await resolveDataset(tx, input.dataset_id)
  const columns = input.columns?.length
    ? input.columns.map((c, i) => columnOf(src, c, `columns[${i}]`)).filter((c) => NUMERIC.includes(c.data_type))
    : src.columns.filter((c) => NUMERIC.includes(c.data_type)).slice(0, 20)
  if (columns.length < 2) throw badRequest('columns', 'a correlation matrix needs at least two numeric columns')
  const params = new Params()
  const conds = filterConditions(src, input.filters, params)
  const m = await asServer(tx, caller, () => sqlMoments(tx, src.table, columns.map((c) => ({ name: c.column_name, sql: num(c) })), conds, params))
  if (m.n < 3) throw insufficientData(`${m.n} complete rows: too few for correlations`, { rows: m.n, field: 'columns' })
  const pairs: { x: string; y: string; r: number | null; p_value: number | null; adjusted_p_value?: number | null }[] = []
  for (let i = 0; i < columns.length; i++) {
    for (let j = i + 1; j < columns.length; j++) {
      const d = Math.sqrt(m.cross[i][i] * m.cross[j][j])
      const r = d > 0 ? m.cross[i][j] / d : NaN
      pairs.push({ x: columns[i].column_name, y: columns[j].column_name, r: Number.isFinite(r) ? r : null, p_value: Number.isFinite(r) ? correlationP(r, m.n) : null })
    }
  }
  const adj = benjaminiHochberg(pairs.map((p) => p.p_value ?? NaN))
  pairs.forEach((p, i) => (p.adjusted_p_value = Number.isFinite(adj[i]) ? adj[i] : null))
  return { status: 'success' as const, columns: columns.map((c) => c.column_name), n: m.n, pairs, execution_time_ms: elapsed(started) }
}
