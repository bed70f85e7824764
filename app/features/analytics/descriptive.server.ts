import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { badRequest } from '#app/http/errors.server.ts'
import type { DescriptiveInput, DescriptiveMetric } from './schemas.ts'
import {
  asServer, columnOf, elapsed, filterConditions, insufficientData, NUMERIC, num, Params, q, resolveDataset, TEMPORAL, whereOf,
} from './source.server.ts'
import { kurtosis, momentsFromPowerSums, skewness } from './stats.ts'

/**
 * POST /api/v1/analytics/descriptive: every metric computed by Postgres in one grouped pass over the silver table
 * (GROUPING SETS: the whole filtered table and each group_by column at once); percentiles with percentile_cont,
 * skewness and kurtosis from power sums around the column's mean (a first, cheap pass) so they stay exact.
 */

const NUMERIC_ONLY: DescriptiveMetric[] = ['sum', 'mean', 'median', 'std', 'var', 'quartiles', 'percentiles', 'skewness', 'kurtosis', 'histogram']
const DEFAULT_PERCENTILES = [5, 25, 50, 75, 95]

type Row = Record<string, unknown>

interface Plan {
  columns: ColumnSpec[]
  metrics: Set<DescriptiveMetric>
  quantiles: number[]
  percentiles: number[]
}

function plan(input: DescriptiveInput, src: Awaited<ReturnType<typeof resolveDataset>>): Plan {
  const metrics = new Set(input.metrics)
  if (input.percentiles) metrics.add('percentiles')
  const named = input.column ? [input.column, ...(input.columns ?? []).filter((c) => c !== input.column)] : input.columns
  const columns = named
    ? named.map((n, i) => columnOf(src, n, input.column && i === 0 ? 'column' : `columns[${(input.columns ?? []).indexOf(n)}]`))
    : src.columns.filter((c) => NUMERIC.includes(c.data_type))
  if (!columns.length) throw badRequest('columns', 'the dataset has no numeric column: name the columns to describe')
  for (const c of columns) {
    const isNum = NUMERIC.includes(c.data_type)
    for (const m of metrics) {
      if (isNum) continue
      if (NUMERIC_ONLY.includes(m) || ((m === 'min' || m === 'max') && !TEMPORAL.includes(c.data_type))) {
        throw badRequest('metrics', `'${m}' needs a numeric column; '${c.column_name}' is ${c.data_type}`, { metric: m, column: c.column_name })
      }
    }
  }
  const percentiles = metrics.has('percentiles') ? (input.percentiles ?? DEFAULT_PERCENTILES) : []
  const qs = new Set<number>()
  if (metrics.has('median')) qs.add(0.5)
  if (metrics.has('quartiles')) [0.25, 0.5, 0.75].forEach((x) => qs.add(x))
  percentiles.forEach((p) => qs.add(p / 100))
  return { columns, metrics, quantiles: [...qs].sort((a, b) => a - b), percentiles }
}

function selectList(p: Plan, shifts: (number | null)[]): string[] {
  const out: string[] = []
  p.columns.forEach((c, i) => {
    const isNum = NUMERIC.includes(c.data_type)
    out.push(`count(${q(c)})::float8 as c${i}_count`)
    if (p.metrics.has('missing')) out.push(`(count(*) - count(${q(c)}))::float8 as c${i}_missing`)
    if (p.metrics.has('distinct')) out.push(`count(distinct ${q(c)})::float8 as c${i}_distinct`)
    if (!isNum) {
      if (p.metrics.has('min')) out.push(`min(${q(c)})::text as c${i}_min`)
      if (p.metrics.has('max')) out.push(`max(${q(c)})::text as c${i}_max`)
      return
    }
    const x = num(c)
    if (p.metrics.has('sum')) out.push(`sum(${x}) as c${i}_sum`)
    if (p.metrics.has('mean')) out.push(`avg(${x}) as c${i}_mean`)
    if (p.metrics.has('std')) out.push(`stddev_samp(${x}) as c${i}_std`)
    if (p.metrics.has('var')) out.push(`var_samp(${x}) as c${i}_var`)
    if (p.metrics.has('min') || p.metrics.has('histogram')) out.push(`min(${x}) as c${i}_min`)
    if (p.metrics.has('max') || p.metrics.has('histogram')) out.push(`max(${x}) as c${i}_max`)
    if (p.quantiles.length) out.push(`percentile_cont(array[${p.quantiles.join(',')}]::float8[]) within group (order by ${x}) as c${i}_q`)
    const shift = shifts[i]
    if (shift !== null) for (const k of [1, 2, 3, 4]) out.push(`sum(power(${x} - ${shift}, ${k})) as c${i}_s${k}`)
  })
  return out
}

type Histogram = { from: number; to: number; count: number }[]

/** Equal-width bins between min and max (the max falls in the last bin), as dataset statistics draw them. */
async function histogram(tx: Sql, table: string, conds: string[], params: Params, c: ColumnSpec, min: number | null, max: number | null, bins: number): Promise<Histogram> {
  if (min === null || max === null) return []
  const x = num(c)
  if (min === max) {
    const { rows } = await tx.query<{ n: number }>(`select count(${x})::float8 as n from ${table} ${whereOf(conds)}`, params.values)
    return [{ from: min, to: max, count: Number(rows[0].n) }]
  }
  const { rows } = await tx.query<{ b: number; n: number }>(
    `select least(width_bucket(${x}, ${Number(min)}::float8, ${Number(max)}::float8, ${bins}), ${bins}) as b, count(*)::float8 as n
       from ${table} ${whereOf([...conds, `${q(c)} is not null`])} group by 1`,
    params.values,
  )
  const counts = new Map(rows.map((r) => [Number(r.b), Number(r.n)]))
  const width = (max - min) / bins
  return Array.from({ length: bins }, (_, i) => ({ from: min + i * width, to: i === bins - 1 ? max : min + (i + 1) * width, count: counts.get(i + 1) ?? 0 }))
}

const pKey = (p: number) => `p${String(p).replace(/\.0+$/, '')}`

/** One column's figures from a result row, in the spec's layout: summary (count first), quartiles, percentiles. */
function figures(p: Plan, r: Row, i: number, shift: number | null) {
  const get = (k: string) => (r[`c${i}_${k}`] ?? null) as number | null
  const count = get('count') ?? 0
  const qv = (r[`c${i}_q`] as number[] | null) ?? []
  const quant = (x: number) => {
    const at = p.quantiles.indexOf(x)
    return at < 0 || !qv.length ? null : qv[at]
  }
  const summary: Record<string, unknown> = { count }
  for (const m of p.metrics) {
    if (m === 'count' || m === 'quartiles' || m === 'percentiles' || m === 'histogram') continue
    if (m === 'median') summary.median = quant(0.5)
    else if (m === 'skewness' || m === 'kurtosis') {
      const s = [1, 2, 3, 4].map((k) => get(`s${k}`))
      const mom = shift !== null && count > 0 && s.every((v) => v !== null) ? momentsFromPowerSums(count, shift, s[0]!, s[1]!, s[2]!, s[3]!) : null
      summary[m] = mom ? (m === 'skewness' ? skewness(mom) : kurtosis(mom)) : null
    } else summary[m] = get(m)
  }
  const out: Record<string, unknown> = { summary }
  if (p.metrics.has('quartiles')) out.quartiles = { q1: quant(0.25), q2: quant(0.5), q3: quant(0.75) }
  if (p.percentiles.length) out.percentiles = Object.fromEntries(p.percentiles.map((x) => [pKey(x), quant(x / 100)]))
  return out
}

export async function describe(tx: Sql, caller: Caller, input: DescriptiveInput) {
  const started = performance.now()
  const src = await resolveDataset(tx, input.dataset_id)
  const p = plan(input, src)
  const groups = [...new Set(input.group_by)].map((g, i) => columnOf(src, g, `group_by[${i}]`))
  const params = new Params()
  const conds = filterConditions(src, input.filters, params)
  const where = whereOf(conds)
  const moments = p.metrics.has('skewness') || p.metrics.has('kurtosis')

  const rows = await asServer(tx, caller, async () => {
    // Skewness and kurtosis: power sums around each column's mean, found by a first (cheap) pass.
    let shifts: (number | null)[] = p.columns.map(() => null)
    if (moments) {
      const numeric = p.columns.map((c, i) => (NUMERIC.includes(c.data_type) ? i : -1)).filter((i) => i >= 0)
      const { rows } = await tx.query<Row>(`select ${numeric.map((i) => `avg(${num(p.columns[i])}) as a${i}`).join(', ')} from ${src.table} ${where}`, params.values)
      shifts = p.columns.map((_, i) => (numeric.includes(i) ? Number(rows[0][`a${i}`]) || 0 : null))
    }
    const select = [`count(*)::float8 as n_rows`, ...selectList(p, shifts)]
    let sql = `select ${select.join(', ')} from ${src.table} ${where}`
    if (groups.length) {
      const keys = groups.map((g, i) => `${g.data_type === 'Date' ? `${q(g)}::text` : q(g)} as g${i}, grouping(${q(g)}) as gr${i}`)
      sql = `select ${keys.join(', ')}, ${select.join(', ')} from ${src.table} ${where} group by grouping sets ((), ${groups.map((g) => `(${q(g)})`).join(', ')})`
    }
    const { rows } = await tx.query<Row>(sql, params.values)
    const all = groups.length ? rows.find((r) => groups.every((_, i) => Number(r[`gr${i}`]) === 1)) : rows[0]
    const histograms: (Histogram | null)[] = []
    for (const [i, c] of p.columns.entries()) {
      histograms.push(p.metrics.has('histogram') && all ? await histogram(tx, src.table, conds, params, c, all[`c${i}_min`] as number | null, all[`c${i}_max`] as number | null, input.histogram_bins) : null)
    }
    return { rows, shifts, histograms }
  })

  const overall = groups.length ? rows.rows.find((r) => groups.every((_, i) => Number(r[`gr${i}`]) === 1))! : rows.rows[0]
  const n = Number(overall?.n_rows ?? 0)
  if (!n) throw insufficientData(conds.length ? 'No rows match the filters' : 'The dataset has no valid rows', { dataset_id: src.id, field: conds.length ? 'filters' : 'dataset_id' })
  const withHistogram = (f: Record<string, unknown>, i: number) => (rows.histograms[i] ? { ...f, histogram: rows.histograms[i] } : f)
  const perColumn = (r: Row, top = false) =>
    Object.fromEntries(p.columns.map((c, i) => [c.column_name, top ? withHistogram(figures(p, r, i, rows.shifts[i]), i) : figures(p, r, i, rows.shifts[i])]))
  const primary = withHistogram(figures(p, overall, 0, rows.shifts[0]), 0)
  const results: Record<string, unknown> = { ...primary, columns: perColumn(overall, true) }
  groups.forEach((g, gi) => {
    const list = rows.rows
      .filter((r) => Number(r[`gr${gi}`]) === 0)
      .sort((a, b) => Number(b.n_rows) - Number(a.n_rows) || String(a[`g${gi}`]).localeCompare(String(b[`g${gi}`])))
    const kept = list.slice(0, input.max_groups).map((r) => {
      const f = figures(p, r, 0, rows.shifts[0])
      const entry: Record<string, unknown> = { [g.column_name]: r[`g${gi}`] ?? null, rows: Number(r.n_rows), ...(f.summary as object) }
      if (f.quartiles) entry.quartiles = f.quartiles
      if (f.percentiles) entry.percentiles = f.percentiles
      if (p.columns.length > 1) entry.columns = perColumn(r)
      return entry
    })
    results[`by_${g.column_name}`] = kept
    if (list.length > kept.length) results[`by_${g.column_name}_total`] = list.length
  })
  return {
    status: 'success' as const,
    dataset_id: src.id,
    column: p.columns[0].column_name,
    row_count: n,
    results,
    execution_time_ms: elapsed(started),
  }
}
