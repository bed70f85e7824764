import type { Db } from '#app/db/db.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { badRequest, notFound } from '#app/http/errors.server.ts'
import { ident } from '../load/load-tx.server.ts'

/**
 * Reading a dataset back for training and inference: the typed valid rows of its silver table, in file order,
 * in batches through a server-side cursor (one pass, memory bounded by the batch size). Runs as the server:
 * callers must have checked that the dataset is the caller's (e.g. loadDataset as the caller) and pass its tenant.
 */

export interface SilverBatch {
  /** The dataset's columns, in the order of each row's values. */
  columns: ColumnSpec[]
  /** Rows as arrays: numbers for Integer/Float, booleans, strings for String/Date, Date objects for DateTime, null. */
  rows: unknown[][]
}

export async function datasetSilver(db: Db, tenantId: string, datasetId: number) {
  const { rows } = await db.query<{ columns: ColumnSpec[]; table_name: string; valid_records: number }>(
    `select d.columns, r.table_name, d.valid_records from public.datasets d
       join public.dataset_tables r on r.dataset_id = d.id and r.schema_name = 'silver'
      where d.id = $1 and d.tenant_id = $2`,
    [datasetId, tenantId],
  )
  if (!rows.length) throw notFound('Dataset', datasetId)
  return { table: `silver.${ident(rows[0].table_name)}`, columns: rows[0].columns, rowCount: rows[0].valid_records }
}

/** Rows whose Date/DateTime `column` lies within [from, to] (ISO dates, either end open). */
export interface SilverPeriod {
  column: string
  from?: string
  to?: string
}

/** 2024-02-30 parses (as March 1st) in JavaScript: a real date reads back the same. */
const realDate = (d: string) => {
  const t = Date.parse(`${d}T00:00:00Z`)
  return !Number.isNaN(t) && new Date(t).toISOString().startsWith(d)
}
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

/** The SQL condition of a period (validated literals: a cursor's query takes no parameters). */
export function periodCondition(columns: ColumnSpec[], p: SilverPeriod | undefined): string {
  if (!p) return 'true'
  const c = columns.find((x) => x.column_name === p.column)
  if (!c || (c.data_type !== 'Date' && c.data_type !== 'DateTime')) throw badRequest('period.column', `'${p.column}' is not a Date or DateTime column`)
  for (const d of [p.from, p.to]) if (d !== undefined && !(ISO_DATE.test(d) && realDate(d))) throw badRequest('period', `'${d}' is not an ISO date (YYYY-MM-DD)`)
  const col = `${ident(c.column_name)}::date`
  return [p.from && `${col} >= '${p.from}'::date`, p.to && `${col} <= '${p.to}'::date`].filter(Boolean).join(' and ') || 'true'
}

/**
 * Calls `onBatch` for each batch of rows (default 10,000). `columns` picks and orders a subset (names as in the
 * template); unknown names are a 400. `period` keeps the rows of a date range.
 */
export async function forEachSilverBatch(
  db: Db,
  tenantId: string,
  datasetId: number,
  onBatch: (batch: SilverBatch) => Promise<void> | void,
  opts: { columns?: string[]; batchSize?: number; signal?: AbortSignal; period?: SilverPeriod } = {},
): Promise<{ rows: number }> {
  const silver = await datasetSilver(db, tenantId, datasetId)
  const byName = new Map(silver.columns.map((c) => [c.column_name, c]))
  const unknown = (opts.columns ?? []).filter((c) => !byName.has(c))
  if (unknown.length) throw badRequest('columns', `unknown column(s): ${unknown.join(', ')}`)
  const columns = opts.columns ? opts.columns.map((c) => byName.get(c)!) : silver.columns
  if (!columns.length) return { rows: 0 }
  const size = Math.max(1, Math.min(opts.batchSize ?? 10_000, 100_000))
  // Dates as text (no time-zone shift), date-times as timestamptz (parsed to Date by both drivers).
  // Aliased c0…cn: result objects keep that order whatever the names (JS puts integer-like keys first).
  const where = periodCondition(silver.columns, opts.period)
  const select = columns.map((c, i) => `${c.data_type === 'Date' ? `${ident(c.column_name)}::text` : ident(c.column_name)} as c${i}`).join(', ')
  const keys = columns.map((_, i) => `c${i}`)
  let total = 0
  await db.transaction(async (tx) => {
    await tx.query(`declare hd_silver no scroll cursor for select ${select} from ${silver.table} where ${where} order by _hd_file_id, _hd_row`)
    for (;;) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted')
      const { rows } = await tx.query<Record<string, unknown>>(`fetch ${size} from hd_silver`)
      if (!rows.length) break
      total += rows.length
      await onBatch({ columns, rows: rows.map((r) => keys.map((k) => r[k])) })
      if (rows.length < size) break
    }
    await tx.query(`close hd_silver`)
  })
  return { rows: total }
}
