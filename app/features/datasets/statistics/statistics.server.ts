import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import type { DataType } from '#app/features/templates/column-types.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { notFound } from '#app/http/errors.server.ts'
import { enqueueJob, jobStateColumns, type JobContext, type JobStatus } from '#app/jobs/jobs.server.ts'
import { ident } from '../load/load-tx.server.ts'

/**
 * Dataset statistics (spec §6.7): a background job computes, in SQL over the silver table, per column:
 * count, nulls, distinct; for numbers min, max, mean, std, quartiles and a 20-bin histogram; for text and
 * booleans the top values; for dates the range and a histogram. The result lives in public.dataset_statistics,
 * whose job_id names the job computing it; status, progress and error are the job's (public.jobs), read by
 * GET /api/v1/dataset/statistics.
 */

export const STATISTICS_JOB = 'dataset.statistics'
export interface StatisticsJobData {
  datasetId: number
}
export const HISTOGRAM_BINS = 20
const TOP_VALUES = 10

export interface ColumnStats {
  column: string
  data_type: DataType
  count: number
  nulls: number
  distinct: number
  min?: number | string | null
  max?: number | string | null
  mean?: number | null
  std?: number | null
  quartiles?: { q1: number | null; median: number | null; q3: number | null }
  histogram?: { from: number | string; to: number | string; count: number }[]
  top_values?: { value: string; count: number }[]
  range_days?: number | null
  min_length?: number | null
  max_length?: number | null
}

export interface DatasetStatistics {
  dataset_id: number
  table: string
  row_count: number
  columns: ColumnStats[]
  computed_at: string
}

const NUMERIC: DataType[] = ['Integer', 'Float']
const TEMPORAL: DataType[] = ['Date', 'DateTime']

/** Runs as the server: the table name comes from the registry, column names from the dataset, both checked against the catalog. */
export async function computeStatistics(
  db: Sql,
  tenantId: string,
  datasetId: number,
  step: JobContext['step'] = async () => {},
): Promise<DatasetStatistics> {
  const { rows: ds } = await db.query<{ columns: ColumnSpec[]; table_name: string }>(
    `select d.columns, r.table_name from public.datasets d
       join public.dataset_tables r on r.dataset_id = d.id and r.schema_name = 'silver'
      where d.id = $1 and d.tenant_id = $2`,
    [datasetId, tenantId],
  )
  if (!ds.length) throw notFound('Dataset', datasetId)
  const table = `silver.${ident(ds[0].table_name)}`
  const { rows: cat } = await db.query<{ attname: string }>(
    `select a.attname from pg_catalog.pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped`,
    [`silver.${ident(ds[0].table_name)}`],
  )
  const present = new Set(cat.map((c) => c.attname))
  const columns = ds[0].columns.filter((c) => present.has(c.column_name))
  const { rows: cnt } = await db.query<{ n: number }>(`select count(*)::bigint as n from ${table}`)
  const out: ColumnStats[] = []
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]
    await step(`column ${i + 1} of ${columns.length}: ${c.column_name}`, Math.round((i / Math.max(columns.length, 1)) * 95))
    out.push(await columnStats(db, table, c))
  }
  return { dataset_id: datasetId, table: `silver.${ds[0].table_name}`, row_count: cnt[0].n, columns: out, computed_at: new Date().toISOString() }
}

async function columnStats(db: Sql, table: string, c: ColumnSpec): Promise<ColumnStats> {
  const col = ident(c.column_name)
  const base = { column: c.column_name, data_type: c.data_type }
  if (NUMERIC.includes(c.data_type)) {
    const { rows } = await db.query(
      `select count(${col})::bigint as count, (count(*) - count(${col}))::bigint as nulls, count(distinct ${col})::bigint as distinct,
              min(${col})::float8 as min, max(${col})::float8 as max, avg(${col})::float8 as mean, stddev_samp(${col})::float8 as std,
              percentile_cont(array[0.25, 0.5, 0.75]) within group (order by ${col}::float8) as q
         from ${table}`,
    )
    const r = rows[0]
    const q = (r.q as number[] | null) ?? [null, null, null]
    return {
      ...base,
      count: r.count,
      nulls: r.nulls,
      distinct: r.distinct,
      min: r.min,
      max: r.max,
      mean: r.mean,
      std: r.std,
      quartiles: { q1: q[0], median: q[1], q3: q[2] },
      histogram: r.count ? await numericHistogram(db, table, `${col}::float8`, r.min, r.max) : [],
    }
  }
  if (TEMPORAL.includes(c.data_type)) {
    const epoch = `extract(epoch from ${col})::float8`
    const { rows } = await db.query(
      `select count(${col})::bigint as count, (count(*) - count(${col}))::bigint as nulls, count(distinct ${col})::bigint as distinct,
              min(${col})::text as min, max(${col})::text as max, min(${epoch}) as min_e, max(${epoch}) as max_e
         from ${table}`,
    )
    const r = rows[0]
    const hist = r.count ? await numericHistogram(db, table, epoch, r.min_e, r.max_e) : []
    const iso = (s: number) => new Date(s * 1000).toISOString()
    return {
      ...base,
      count: r.count,
      nulls: r.nulls,
      distinct: r.distinct,
      min: r.min,
      max: r.max,
      range_days: r.count ? (r.max_e - r.min_e) / 86400 : null,
      histogram: hist.map((h) => ({ from: iso(h.from as number), to: iso(h.to as number), count: h.count })),
    }
  }
  const text = c.data_type === 'Boolean' ? `${col}::text` : col
  const { rows } = await db.query(
    `select count(${col})::bigint as count, (count(*) - count(${col}))::bigint as nulls, count(distinct ${col})::bigint as distinct,
            min(length(${text}))::int as min_length, max(length(${text}))::int as max_length
       from ${table}`,
  )
  const { rows: top } = await db.query<{ value: string; count: number }>(
    `select ${text} as value, count(*)::bigint as count from ${table} where ${col} is not null
      group by 1 order by 2 desc, 1 limit ${TOP_VALUES}`,
  )
  const r = rows[0]
  return {
    ...base,
    count: r.count,
    nulls: r.nulls,
    distinct: r.distinct,
    ...(c.data_type === 'String' ? { min_length: r.min_length, max_length: r.max_length } : {}),
    top_values: top,
  }
}

/** Equal-width bins between min and max (the max falls in the last bin); one bin when all values are equal. */
async function numericHistogram(db: Sql, table: string, expr: string, min: number, max: number) {
  if (min === max) {
    const { rows } = await db.query<{ n: number }>(`select count(*)::bigint as n from ${table} where ${expr} is not null`)
    return [{ from: min, to: max, count: rows[0].n }]
  }
  const { rows } = await db.query<{ b: number; n: number }>(
    `select least(width_bucket(${expr}, $1::float8, $2::float8, ${HISTOGRAM_BINS}), ${HISTOGRAM_BINS}) as b, count(*)::bigint as n
       from ${table} where ${expr} is not null group by 1 order by 1`,
    [min, max],
  )
  const width = (max - min) / HISTOGRAM_BINS
  const counts = new Map(rows.map((r) => [r.b, r.n]))
  return Array.from({ length: HISTOGRAM_BINS }, (_, i) => ({ from: min + i * width, to: i === HISTOGRAM_BINS - 1 ? max : min + (i + 1) * width, count: counts.get(i + 1) ?? 0 }))
}

// ---------------------------------------------------------------- request and read (the job: ../jobs.server.ts)

/** POST /api/v1/dataset/generate_statistics: submits the job (one at a time per dataset). */
export async function requestStatistics(sql: Sql, caller: Caller, datasetId: number) {
  const { rows } = await sql.query(`select 1 from public.datasets where id = $1`, [datasetId])
  if (!rows.length) throw notFound('Dataset', datasetId)
  const job = await enqueueJob(sql, STATISTICS_JOB, { datasetId } satisfies StatisticsJobData, {
    tenantId: caller.tenantId,
    createdBy: caller.kind === 'user' ? caller.userId : null,
    singletonKey: `dataset:${datasetId}`,
  })
  if (!job.existing) {
    // The previous result stays readable until the new job replaces it.
    await sql.query(
      `insert into public.dataset_statistics (dataset_id, tenant_id, job_id, requested_at) values ($1, $2, $3, now())
       on conflict (dataset_id) do update set job_id = excluded.job_id, requested_at = now()`,
      [datasetId, caller.tenantId, job.id],
    )
  }
  return { status: 'success', message: 'Statistics generation job submitted successfully.', job_id: job.id }
}

interface StatisticsState {
  dataset_id: number
  job_id: string
  status: JobStatus
  progress: number
  message: string | null
  error: string | null
  started_at: Date | null
  finished_at: Date | null
  requested_at: Date
  result: DatasetStatistics | null
}

/** GET /api/v1/dataset/statistics: the latest statistics of a dataset and the state of the job computing them. */
export async function getStatistics(sql: Sql, datasetId: number) {
  const { rows: ds } = await sql.query(`select 1 from public.datasets where id = $1`, [datasetId])
  if (!ds.length) throw notFound('Dataset', datasetId)
  const { rows } = await sql.query<StatisticsState>(
    `select s.dataset_id, s.job_id, ${jobStateColumns('j')}, s.requested_at, s.result
       from public.dataset_statistics s join public.jobs j on j.id = s.job_id
      where s.dataset_id = $1`,
    [datasetId],
  )
  if (!rows.length) return { dataset_id: datasetId, job_id: null, status: 'not_requested', progress: 0, message: null, error: null, result: null }
  const { started_at: _started, finished_at, ...row } = rows[0]
  return { ...row, completed_at: finished_at }
}
