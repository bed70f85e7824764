import { setCaller, type Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ident } from '#app/features/datasets/datasets.server.ts'
import type { DataType } from '#app/features/templates/column-types.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { ApiError, badRequest, forbidden } from '#app/http/errors.server.ts'
import type { MomentSet } from './regression.ts'
import type { Filters } from './schemas.ts'

/**
 * Where every analytics endpoint starts: the caller's dataset (checked in SQL by app.analytics_dataset as the caller),
 * its silver table read as the server inside the same transaction, and the request's filters as a WHERE clause whose
 * values are parameters and whose column names are checked against the dataset's columns before they are quoted.
 */

export interface DatasetSource {
  id: number
  name: string
  icebergName: string
  /** `silver."t_…"`, quoted. */
  table: string
  columns: ColumnSpec[]
  rowCount: number
}

export const NUMERIC: DataType[] = ['Integer', 'Float']
export const TEMPORAL: DataType[] = ['Date', 'DateTime']

export const invalidDataset = (id: unknown) =>
  new ApiError(404, 'INVALID_DATASET', 'Dataset not found or inaccessible', { dataset_id: id, field: 'dataset_id' })
export const insufficientData = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError(400, 'INSUFFICIENT_DATA', message, details)

export async function resolveDataset(tx: Sql, raw: unknown, field = 'dataset_id'): Promise<DatasetSource> {
  const id = typeof raw === 'number' ? raw : /^\d{1,15}$/.test(String(raw)) ? Number(raw) : NaN
  if (!Number.isSafeInteger(id) || id <= 0) throw invalidDataset(raw)
  try {
    const { rows } = await tx.query<{ dataset_id: number; dataset_name: string; table_name: string; columns: ColumnSpec[]; valid_records: number; iceberg_table_name: string }>(
      `select * from app.analytics_dataset($1)`,
      [id],
    )
    const r = rows[0]
    return { id: r.dataset_id, name: r.dataset_name, icebergName: r.iceberg_table_name, table: `silver.${ident(r.table_name)}`, columns: r.columns, rowCount: r.valid_records }
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'P0002') throw new ApiError(404, 'INVALID_DATASET', 'Dataset not found or inaccessible', { dataset_id: raw, field })
    if (code === '42501') throw forbidden("This needs the 'analytics.read' permission", { permission: 'analytics.read' })
    throw e
  }
}

/** Runs fn as the server (the owner of the datalake tables) inside the caller's transaction, then back to the caller. */
export async function asServer<T>(tx: Sql, caller: Caller, fn: () => Promise<T>): Promise<T> {
  await tx.query(`select set_config('role', 'none', true)`)
  let result: T
  try {
    result = await fn()
  } catch (e) {
    // Back to the caller if the transaction still can; the original error is the one that matters.
    await setCaller(tx, caller.claims).catch(() => {})
    throw e
  }
  await setCaller(tx, caller.claims)
  return result
}

export function columnOf(src: DatasetSource, name: string, field: string): ColumnSpec {
  const c = src.columns.find((x) => x.column_name === name)
  if (!c) throw badRequest(field, `unknown column '${name}'`, { columns: src.columns.map((x) => x.column_name) })
  return c
}

export function numericColumn(src: DatasetSource, name: string, field: string): ColumnSpec {
  const c = columnOf(src, name, field)
  if (!NUMERIC.includes(c.data_type)) throw badRequest(field, `'${name}' is ${c.data_type}, not a number`)
  return c
}

/** The date column: the one named, else the dataset's first Date/DateTime column; null when there is none. */
export function dateColumnOf(src: DatasetSource, named: string | undefined, field: string): ColumnSpec | null {
  if (named) {
    const c = columnOf(src, named, field)
    if (!TEMPORAL.includes(c.data_type)) throw badRequest(field, `'${named}' is ${c.data_type}, not a date`)
    return c
  }
  return src.columns.find((c) => TEMPORAL.includes(c.data_type)) ?? null
}

export const q = (c: ColumnSpec | string) => ident(typeof c === 'string' ? c : c.column_name)
/** A numeric column as float8 (bigint averages would come back as numeric). */
export const num = (c: ColumnSpec | string) => `${q(c)}::float8`

/**
 * A text literal for a value read from the database itself (a category level): standard_conforming_strings is on in
 * every supported Postgres, so doubling quotes is the whole escape. Caller-given values always go in as parameters.
 */
export const literal = (v: string) => `'${v.replace(/'/g, "''")}'::text`

/** SQL placeholders appended to one params list. */
export class Params {
  readonly values: unknown[] = []
  add(v: unknown, cast = ''): string {
    this.values.push(v)
    return `$${this.values.length}${cast}`
  }
}

function typedValue(c: ColumnSpec, v: unknown, field: string): { value: unknown; cast: string } {
  switch (c.data_type) {
    case 'Integer':
    case 'Float':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(field, `'${c.column_name}' is ${c.data_type}: give a number`)
      return { value: v, cast: '::float8' }
    case 'Boolean':
      if (typeof v !== 'boolean') throw badRequest(field, `'${c.column_name}' is Boolean: give true or false`)
      return { value: v, cast: '::boolean' }
    case 'Date':
    case 'DateTime':
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw badRequest(field, `'${c.column_name}' is a date: give YYYY-MM-DD`)
      return { value: v, cast: c.data_type === 'Date' ? '::date' : '::timestamptz' }
    default:
      if (typeof v !== 'string') throw badRequest(field, `'${c.column_name}' is String: give text`)
      return { value: v, cast: '::text' }
  }
}

/** A date-only end of range covers its whole day on a DateTime column. */
function endOf(c: ColumnSpec, v: string, p: Params) {
  if (c.data_type === 'DateTime' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return `${q(c)} < (${p.add(v, '::date')} + 1)::timestamptz`
  return `${q(c)} <= ${p.add(v, c.data_type === 'Date' ? '::date' : '::timestamptz')}`
}

/** The filters as SQL conditions (empty list: no filter). `base` names the filters' place in the request body. */
export function filterConditions(src: DatasetSource, filters: Filters | undefined, p: Params, base = 'filters'): string[] {
  if (!filters) return []
  const out: string[] = []
  if (filters.date_range) {
    const dc = dateColumnOf(src, filters.date_column, `${base}.date_column`)
    if (!dc) throw badRequest(`${base}.date_range`, 'the dataset has no date column (name one with filters.date_column)')
    const { start, end } = filters.date_range
    if (start && end && Date.parse(start) > Date.parse(end)) throw badRequest(`${base}.date_range`, 'start is after end')
    if (start) out.push(`${q(dc)} >= ${p.add(start, dc.data_type === 'Date' ? '::date' : '::timestamptz')}`)
    if (end) out.push(endOf(dc, end, p))
  } else if (filters.date_column) dateColumnOf(src, filters.date_column, `${base}.date_column`)
  for (const [name, v] of Object.entries(filters.equals ?? {})) {
    const field = `${base}.equals.${name}`
    const c = columnOf(src, name, field)
    const list = Array.isArray(v) ? v : [v]
    const parts = list.map((x) => {
      const t = typedValue(c, x, field)
      return p.add(t.value, t.cast)
    })
    out.push(parts.length === 1 ? `${q(c)} = ${parts[0]}` : `${q(c)} in (${parts.join(', ')})`)
  }
  for (const [name, r] of Object.entries(filters.range ?? {})) {
    const field = `${base}.range.${name}`
    const c = columnOf(src, name, field)
    if (!NUMERIC.includes(c.data_type) && !TEMPORAL.includes(c.data_type)) throw badRequest(field, `'${name}' is ${c.data_type}: a range needs numbers or dates`)
    if (r.min === undefined && r.max === undefined) throw badRequest(field, 'give min, max or both')
    if (r.min !== undefined) {
      const t = typedValue(c, r.min, `${field}.min`)
      out.push(`${q(c)} >= ${p.add(t.value, t.cast)}`)
    }
    if (r.max !== undefined) {
      if (typeof r.max === 'string' && c.data_type === 'DateTime') out.push(endOf(c, r.max, p))
      else {
        const t = typedValue(c, r.max, `${field}.max`)
        out.push(`${q(c)} <= ${p.add(t.value, t.cast)}`)
      }
    }
  }
  return out
}

export const whereOf = (conds: string[]) => (conds.length ? `where ${conds.map((c) => `(${c})`).join(' and ')}` : '')

/**
 * Count, means, ranges and centred cross-products of SQL expressions over the rows where all of them are present
 * (listwise deletion), in one pass: `covar_pop(a, b) · n` is Σ(a − ā)(b − b̄). The expressions are computed once per
 * row in a subquery kept apart by `offset 0` (flattened, Postgres evaluates each aggregate's arguments anew: 3.5×
 * slower on 7 columns). With `part`, the same moments over the rows where that condition holds come in the same pass.
 */
export async function sqlMoments(
  tx: Sql,
  from: string,
  exprs: { name: string; sql: string }[],
  conds: string[],
  params: Params,
  opts: { part?: string } = {},
): Promise<MomentSet & { part?: MomentSet }> {
  const unique = [...new Set(exprs.map((e) => e.sql))]
  const at = exprs.map((e) => unique.indexOf(e.sql))
  const k = unique.length
  const aggs = (suffix: string, filter: string) => {
    const f = filter ? ` filter (where ${filter})` : ''
    const cols: string[] = [`count(*)${f}::float8 as n${suffix}`]
    // Ranges only for the whole set: a part needs its means and cross-products.
    for (let i = 0; i < k; i++) cols.push(filter ? `avg(c${i})${f} as m${i}${suffix}` : `avg(c${i}) as m${i}, min(c${i}) as lo${i}, max(c${i}) as hi${i}`)
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) cols.push(`covar_pop(c${i}, c${j})${f} as c${i}_${j}${suffix}`)
    return cols
  }
  const inner = [...unique.map((e, i) => `(${e})::float8 as c${i}`), ...(opts.part ? [`(${opts.part}) as __part`] : [])].join(', ')
  const where = whereOf([...conds, ...unique.map((e) => `(${e}) is not null`)])
  const select = [...aggs('', ''), ...(opts.part ? aggs('_p', '__part') : [])]
  const { rows } = await tx.query<Record<string, number | null>>(`select ${select.join(', ')} from (select ${inner} from ${from} ${where} offset 0) s`, params.values)
  const r = rows[0]
  const read = (suffix: string): MomentSet => {
    const n = Number(r[`n${suffix}`])
    const u = (key: string, i: number) => r[`${key}${i}${suffix}`] ?? NaN
    const cross = exprs.map((_, a) => exprs.map((_, b) => {
      const [i, j] = at[a] <= at[b] ? [at[a], at[b]] : [at[b], at[a]]
      return (r[`c${i}_${j}${suffix}`] ?? 0) * n
    }))
    const ranges = suffix ? {} : { min: at.map((i) => u('lo', i)), max: at.map((i) => u('hi', i)) }
    return { names: exprs.map((e) => e.name), n, means: at.map((i) => u('m', i)), cross, ...ranges }
  }
  return opts.part ? { ...read(''), part: read('_p') } : read('')
}

/** Milliseconds since `started`, rounded to 0.01 (the spec's execution_time_ms). */
export const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100

/** Datasets the pages offer (those with a silver table the caller may read), with their typed columns. */
export async function analyticsDatasets(tx: Sql) {
  const { rows } = await tx.query<{ id: number; dataset_name: string; columns: ColumnSpec[]; valid_records: number }>(
    `select d.id, d.dataset_name, d.columns, d.valid_records from public.datasets d
      where exists (select 1 from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'silver') and d.valid_records > 0
      order by d.id desc`,
  )
  return rows
}
