import { asCaller, type Db, type Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { notFound } from '#app/http/errors.server.ts'
import { logError } from '#app/http/log.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { USAGES, usabilityText } from '../model.ts'

/** Datasets (spec §6): list, validated list, details, paged preview, delete. */

interface DatasetRow {
  id: number
  tenant_id: string
  dataset_name: string
  usage: string
  template_id: number | null
  template_name: string | null
  data_source: string
  iceberg_table_name: string
  columns: ColumnSpec[]
  schema_inferred: boolean
  total_records: number
  valid_records: number
  header_ok: boolean
  is_valid: boolean
  file_count: number
  created_by: string | null
  created_at: Date
  modified_at: Date
  bronze_table: string | null
  silver_table: string | null
}

const SELECT = `
  select d.id, d.tenant_id, d.dataset_name, d.usage, d.template_id, t.template_name, d.data_source, d.iceberg_table_name,
         d.columns, d.schema_inferred, d.total_records, d.valid_records, d.header_ok, d.is_valid,
         (select count(*) from public.dataset_files f where f.dataset_id = d.id)::int as file_count,
         d.created_by_name as created_by, d.created_at, d.modified_at,
         (select r.table_name from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'bronze') as bronze_table,
         (select r.table_name from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'silver') as silver_table
    from public.datasets d
    left join public.templates t on t.id = d.template_id`

function listItem(d: DatasetRow) {
  return {
    tenant_id: d.tenant_id,
    dataset_name: d.dataset_name,
    file_count: d.file_count,
    is_valid: d.is_valid,
    created_by: d.created_by,
    template_id: d.template_id,
    data_source: d.data_source,
    iceberg_table_name: d.iceberg_table_name,
    id: d.id,
    template_name: d.template_name,
    created_at: d.created_at,
    modified_at: d.modified_at,
    dataset_usability: usabilityText(d.valid_records, d.total_records),
    usage: d.usage,
    dataset_usage: USAGES[d.usage] ?? d.usage,
  }
}

export async function listDatasets(sql: Sql) {
  const { rows } = await sql.query<DatasetRow>(`${SELECT} order by d.id desc`)
  return { total: rows.length, data: rows.map(listItem) }
}

export async function listValidatedDatasets(sql: Sql) {
  const { rows } = await sql.query<DatasetRow>(`${SELECT} where d.is_valid order by d.id desc`)
  return rows.map((d) => ({
    tenant_id: d.tenant_id,
    dataset_name: d.dataset_name,
    file_count: d.file_count,
    is_valid: d.is_valid,
    created_by: d.created_by,
    template_id: d.template_id,
    id: d.id,
  }))
}

export async function loadDataset(sql: Sql, id: number): Promise<DatasetRow> {
  const { rows } = await sql.query<DatasetRow>(`${SELECT} where d.id = $1`, [id])
  if (!rows.length) throw notFound('Dataset', id)
  return rows[0]
}

/** The spec's shape; the paths are where the data really is (bronze and silver tables). */
export async function getDatasetById(sql: Sql, id: number) {
  const d = await loadDataset(sql, id)
  return {
    dataset_name: d.dataset_name,
    dataset_path: d.bronze_table ? `bronze.${d.bronze_table}` : null,
    validated_path: d.silver_table ? `silver.${d.silver_table}` : null,
    iceberg_table_name: d.iceberg_table_name,
    data_source: d.data_source,
  }
}

/** Everything the dataset page shows. */
export async function getDatasetDetail(sql: Sql, id: number) {
  const d = await loadDataset(sql, id)
  return {
    ...listItem(d),
    columns: d.columns,
    schema_inferred: d.schema_inferred,
    total_records: d.total_records,
    valid_records: d.valid_records,
    header_ok: d.header_ok,
    dataset_path: d.bronze_table ? `bronze.${d.bronze_table}` : null,
    validated_path: d.silver_table ? `silver.${d.silver_table}` : null,
  }
}

/** A page of the dataset's rows: typed valid rows from silver (default) or raw rows from bronze. */
export async function viewDataset(sql: Sql, id: number, opts: { skip: number; limit: number; layer: 'silver' | 'bronze' }) {
  const d = await loadDataset(sql, id)
  const { rows } = await sql.query<{ rows: Record<string, unknown>[] }>(`select app.dataset_rows($1, $2, $3, $4) as rows`, [
    id,
    opts.layer,
    opts.skip,
    opts.limit,
  ])
  return {
    preview: rows[0].rows,
    total: opts.layer === 'silver' ? d.valid_records : d.total_records,
    skip: opts.skip,
    limit: opts.limit,
    layer: opts.layer,
  }
}

/** Deletes the dataset, its files' records, error reports, statistics and (by trigger) its tables; then the stored files. */
export async function deleteDataset(db: Db, caller: Caller, id: number) {
  const keys = await asCaller(db, caller.claims, async (tx) => {
    const d = await loadDataset(tx, id)
    const { rows } = await tx.query<{ storage_key: string }>(`select storage_key from public.dataset_files where dataset_id = $1`, [id])
    const del = await tx.query(`delete from public.datasets where id = $1`, [id])
    if (!del.rowCount) throw notFound('Dataset', id)
    return { name: d.dataset_name, keys: rows.map((r) => r.storage_key) }
  })
  const store = getFileStore()
  await Promise.all(keys.keys.map((k) => store.delete(k).catch((e) => logError(e, { key: k }))))
  return { status: 'success', message: `Dataset '${keys.name}' deleted`, id }
}
