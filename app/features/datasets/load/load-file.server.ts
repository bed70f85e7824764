import crypto from 'node:crypto'
import { PG_TYPES, type DataType } from '#app/features/templates/column-types.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { conflict } from '#app/http/errors.server.ts'
import type { CsvLimits } from '../csv/csv.server.ts'
import { CsvError } from '../csv/csv.server.ts'
import { csvFailure } from '../csv/failure.server.ts'
import type { EncodedFile } from '../csv/file-encoder.server.ts'
import { planFile, RowProcessor, type ErrorReportSummary } from '../csv/row-validation.server.ts'
import { physicalTable, tableNameFrom, VALIDITY_THRESHOLD } from '../model.ts'
import type { ReceivedFile } from '../receive/receive.server.ts'
import { openSink } from './copy-sink.server.ts'
import { encodeInto, loadPathCounts, MAX_AHEAD_BYTES, type Phases } from './encode-paths.server.ts'
import { ident, type LoadTx } from './load-tx.server.ts'
import type { SideLoad } from './side-load.server.ts'

/**
 * Loading, inside the upload's one transaction: the dataset row, its bronze and silver tables and registry rows,
 * then each file: its record, its rows COPYed into bronze and silver, its error report. A new dataset's bronze may
 * live on a second transaction (side-load.server.ts) that commits just before this one.
 */

export interface FileOut {
  dataset_id: number
  id: number
  file_name: string
  created_at: Date
  modified_at: Date
  total_fields: number
  total_records: number
  error_report: (ErrorReportSummary & { download: string }) | null
}

export interface UploadResult {
  dataset_id: number
  dataset_name: string
  data_source: string
  files: FileOut[]
  /** Only when no template was given: the column types read from the data, for confirmation. */
  inferred_schema?: ColumnSpec[]
}

export interface DatasetTarget {
  id: number
  tenantId: string
  columns: ColumnSpec[]
  bronze: string
  silver: string
  /** A new dataset's bronze table lives on this second transaction (Postgres), loaded alongside silver. */
  side?: SideLoad
}

export interface LoadOptions {
  limits?: Partial<CsvLimits>
  side?: SideLoad
  phases?: Phases
}

/** How long an upload waits for another, uncommitted one that wants the same dataset name. */
const NAME_WAIT_MS = 3000

/** Creates the dataset row, its bronze/silver tables and loads the files, inside the load transaction. */
export async function createDataset(
  tx: LoadTx,
  tenantId: string,
  p: { dataset_name: string; usage: string; template_id?: number; iceberg_table_name?: string },
  columns: ColumnSpec[],
  inferred: boolean,
  files: ReceivedFile[] | AsyncIterable<ReceivedFile>,
  opts: LoadOptions = {},
): Promise<UploadResult> {
  const { rows: clash } = await tx.query<{ dataset_name: string; iceberg_table_name: string }>(
    `select dataset_name, iceberg_table_name from public.datasets where tenant_id = $3 and (dataset_name = $1 or iceberg_table_name = $2)`,
    [p.dataset_name, p.iceberg_table_name || null, tenantId],
  )
  if (clash.some((c) => c.dataset_name === p.dataset_name)) throw conflict(`A dataset named '${p.dataset_name}' already exists`, { field: 'dataset_name' })
  if (clash.length) throw conflict(`The table name '${p.iceberg_table_name}' is already used by another dataset`, { field: 'iceberg_table_name' })
  let tableName = p.iceberg_table_name || tableNameFrom(p.dataset_name)
  if (!p.iceberg_table_name) {
    const { rows: taken } = await tx.query(`select 1 from public.datasets where tenant_id = $2 and iceberg_table_name = $1`, [tableName, tenantId])
    if (taken.length) tableName = `${tableName.slice(0, 40)}_${crypto.randomBytes(3).toString('hex')}`
  }
  // Another upload of the same name that has not committed yet (one loading while its client still sends may take
  // minutes) holds the name: wait briefly for it, then answer 409 rather than wait for its client.
  await tx.exec(`set local lock_timeout = '${NAME_WAIT_MS}ms'`)
  const { rows } = await tx
    .query<{ id: number }>(
      `insert into public.datasets (tenant_id, dataset_name, usage, template_id, iceberg_table_name, columns, schema_inferred)
       values ($1, $2, $3, $4, $5, $6::jsonb, $7) returning id`,
      [tenantId, p.dataset_name, p.usage, p.template_id ?? null, tableName, JSON.stringify(columns), inferred],
    )
    .catch((e: { code?: string }) => {
      if (e?.code !== '55P03') throw e
      throw conflict(`Another upload is creating a dataset named '${p.dataset_name}' (or table '${tableName}') right now`, { field: 'dataset_name' })
    })
  await tx.exec(`set local lock_timeout = 0`)
  const target: DatasetTarget = {
    id: rows[0].id,
    tenantId,
    columns,
    bronze: physicalTable(tenantId, tableName),
    silver: physicalTable(tenantId, tableName),
    side: opts.side,
  }
  await createTables(tx, target, tableName)
  const out: FileOut[] = []
  for await (const f of files) out.push(await loadFile(tx, target, f, opts))
  await refreshDatasetTotals(tx, target.id)
  if (opts.side) {
    await tx.asServer()
    await opts.side.commitBefore(tx)
    await tx.asCaller()
  }
  return {
    dataset_id: target.id,
    dataset_name: p.dataset_name,
    data_source: 'csv',
    files: out,
    ...(inferred ? { inferred_schema: columns } : {}),
  }
}

async function createTables(tx: LoadTx, target: DatasetTarget, displayName: string) {
  const cols = target.columns
  await tx.asServer()
  // Another tenant whose id starts with the same 8 hex digits may hold the name: add a random suffix then.
  const { rows: exists } = await tx.query<{ taken: boolean }>(
    `select to_regclass('bronze.' || $1) is not null or to_regclass('silver.' || $1) is not null as taken`,
    [target.silver],
  )
  if (exists[0].taken) {
    target.silver = target.bronze = `${target.silver.slice(0, 51)}_${crypto.randomBytes(3).toString('hex')}`
  }
  const bronzeCols = cols.map((c) => `${ident(c.column_name)} text`).join(', ')
  const silverCols = cols.map((c) => `${ident(c.column_name)} ${PG_TYPES[c.data_type as DataType]}`).join(', ')
  const bronzeDdl = `
    create table bronze.${target.bronze} (_hd_file_id bigint not null, _hd_row bigint not null, _hd_valid boolean not null${bronzeCols ? ', ' + bronzeCols : ''});
    revoke all on bronze.${target.bronze} from public;`
  await tx.exec(`
    create table silver.${target.silver} (_hd_file_id bigint not null, _hd_row bigint not null${silverCols ? ', ' + silverCols : ''});
    revoke all on silver.${target.silver} from public;${target.side ? '' : bronzeDdl}`)
  if (target.side) {
    await target.side.tx.exec(bronzeDdl)
    await target.side.stage('bronze', target.bronze)
  }
  await tx.query(
    `insert into public.dataset_tables (tenant_id, dataset_id, schema_name, table_name, display_name)
     values ($1, $2, 'bronze', $3, $5), ($1, $2, 'silver', $4, $5)`,
    [target.tenantId, target.id, target.bronze, target.silver, displayName],
  )
  await tx.asCaller()
}

/** Loads one file (stored, or arriving through its channel) into the dataset's tables; returns its API record. */
export async function loadFile(tx: LoadTx, target: DatasetTarget, file: ReceivedFile, opts: LoadOptions = {}): Promise<FileOut> {
  const { rows } = await tx.query<{ id: number }>(
    `insert into public.dataset_files (tenant_id, dataset_id, file_name, storage_key, size_bytes) values ($1, $2, $3, $4, $5) returning id`,
    [target.tenantId, target.id, file.fileName, file.key, file.size],
  )
  const fileId = rows[0].id
  const colNames = target.columns.map((c) => ident(c.column_name))
  await tx.asServer()
  const sink = await openSink(
    tx,
    {
      bronze: { table: `bronze.${target.bronze}`, columns: ['_hd_file_id', '_hd_row', '_hd_valid'] },
      silver: { table: `silver.${target.silver}`, columns: ['_hd_file_id', '_hd_row', ...colNames] },
      errors: { table: 'public.dataset_file_errors', columns: ['tenant_id', 'file_id', 'row_number', 'column_name', 'value', 'rule', 'message'] },
    },
    MAX_AHEAD_BYTES,
    target.side?.tx,
  )
  let encoded: EncodedFile
  try {
    const r = await encodeInto(sink, file, { columns: target.columns, fileId, tenantId: target.tenantId, limits: opts.limits }, opts.phases)
    encoded = r.encoded
    loadPathCounts[target.side ? (`${r.path}+side` as const) : r.path]++
    await tx.asCaller()
  } catch (e) {
    // When a COPY failed, the thread was stopped for it: report the COPY's error, not the abort.
    const cause = sink.failed && !(e instanceof CsvError) ? sink.failure : e
    await sink.close()
    throw csvFailure(cause, file.fileName)
  }
  const { header, delimiter } = encoded
  const proc = new RowProcessor(planFile(header, target.columns), fileId, { tenantId: target.tenantId, delimiter })
  proc.restore(encoded.counts)
  const summary = proc.summary()
  const report = summary ? { ...summary, download: `/api/v1/files/error_report?file_id=${fileId}` } : null
  const { rows: out } = await tx.query<FileOut>(
    `update public.dataset_files
        set delimiter = $2, header = $3::jsonb, total_records = $4, total_fields = $5, valid_records = $6,
            invalid_records = $7, error_count = $8, error_report = $9::jsonb,
            size_bytes = $10
      where id = $1
  returning dataset_id, id, file_name, created_at, modified_at, total_fields, total_records, error_report`,
    [fileId, delimiter, JSON.stringify(header), proc.total, header.length, proc.valid, proc.total - proc.valid, proc.errorCount, report === null ? null : JSON.stringify(report), file.size],
  )
  return out[0]
}

/** Recomputes a dataset's totals and validity from its files (after upload, add and delete). */
export async function refreshDatasetTotals(tx: { query: LoadTx['query'] }, datasetId: number) {
  await tx.query(
    `update public.datasets d
        set total_records = s.total, valid_records = s.valid, header_ok = s.header_ok,
            is_valid = s.header_ok and s.total > 0 and s.valid >= $2::float8 * s.total
       from (select coalesce(sum(f.total_records), 0)::bigint as total, coalesce(sum(f.valid_records), 0)::bigint as valid,
                    coalesce(bool_and(coalesce(jsonb_array_length(f.error_report -> 'header'), 0) = 0), true) as header_ok
               from public.dataset_files f where f.dataset_id = $1) s
      where d.id = $1`,
    [datasetId, VALIDITY_THRESHOLD],
  )
}
