import type { Db, Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { badRequest, notFound } from '#app/http/errors.server.ts'
import { logError } from '#app/http/log.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { ident, withLoadTx } from '../load/load-tx.server.ts'
import { FILE_PATH_RE, filePath } from '../model.ts'
import { refreshDatasetTotals, type FileOut } from '../load/load-file.server.ts'

/** Files of a dataset (spec §7). A file is found only among the caller's own tenant's records (RLS). */

const FILE_FIELDS = `f.dataset_id, f.id, f.file_name, f.created_at, f.modified_at, f.total_fields, f.total_records, f.error_report`

/** A file's API record (as upload returns it) plus the columns only the server reads. */
interface FileRow extends Omit<FileOut, 'error_report'> {
  error_report: unknown
  storage_key: string
  size_bytes: number
  valid_records: number
  invalid_records: number
  error_count: number
  delimiter: string
}

async function loadFile(sql: Sql, id: number): Promise<FileRow> {
  const { rows } = await sql.query<FileRow>(
    `select ${FILE_FIELDS}, f.storage_key, f.size_bytes, f.valid_records, f.invalid_records, f.error_count, f.delimiter
       from public.dataset_files f where f.id = $1`,
    [id],
  )
  if (!rows.length) throw notFound('File', id)
  return rows[0]
}

export async function listFiles(sql: Sql, datasetId: number) {
  const { rows: ds } = await sql.query(`select 1 from public.datasets where id = $1`, [datasetId])
  if (!ds.length) throw notFound('Dataset', datasetId)
  const { rows } = await sql.query(`select ${FILE_FIELDS} from public.dataset_files f where f.dataset_id = $1 order by f.id`, [datasetId])
  return { total: rows.length, data: rows }
}

export async function getFileById(sql: Sql, id: number) {
  const f = await loadFile(sql, id)
  return {
    dataset_id: f.dataset_id,
    id: f.id,
    file_name: f.file_name,
    created_at: f.created_at,
    modified_at: f.modified_at,
    total_fields: f.total_fields,
    total_records: f.total_records,
    error_report: f.error_report,
    csv_file_path: filePath(f.dataset_id, f.id, f.file_name),
    // No HDF copy is made: the typed data lives in the silver table.
    hdf_file_path: null,
    size_bytes: f.size_bytes,
    valid_records: f.valid_records,
    invalid_records: f.invalid_records,
    delimiter: f.delimiter,
  }
}

/** The first `lines` physical lines of the stored file, read as a stream (stops early). */
export async function viewFile(sql: Sql, id: number, lines: number) {
  const f = await loadFile(sql, id)
  const body = await getFileStore().get(f.storage_key)
  const decoder = new TextDecoder('utf-8')
  const out: string[] = []
  let buf = ''
  const reader = body.getReader()
  try {
    while (out.length < lines) {
      const { done, value } = await reader.read()
      if (done) break
      buf += decoder.decode(value, { stream: true })
      let i: number
      while (out.length < lines && (i = buf.indexOf('\n')) >= 0) {
        out.push(buf.slice(0, i).replace(/\r$/, ''))
        buf = buf.slice(i + 1)
      }
      if (buf.length > 1024 * 1024) break // a giant line: show what we have
    }
    if (out.length < lines && buf) out.push(buf.replace(/\r$/, '').slice(0, 1024 * 1024))
  } finally {
    await reader.cancel().catch(() => {})
  }
  if (out.length && out[0].charCodeAt(0) === 0xfeff) out[0] = out[0].slice(1)
  return { file_id: f.id, content_preview: out }
}

/**
 * `file_path` as the API shows it (csv_file_path: /datasets/<id>/files/<id>/<name>) or a file id. Resolved only
 * among the caller's file records: anything else — a disk path, `..`, another tenant's file — is a 404.
 */
export async function resolveDownload(sql: Sql, given: { file_path?: string; file_id?: number }): Promise<FileRow> {
  if (given.file_id !== undefined) return loadFile(sql, given.file_id)
  if (!given.file_path) throw badRequest('file_path', 'is required')
  const m = FILE_PATH_RE.exec(given.file_path)
  if (!m) throw notFound('File', given.file_path)
  const f = await loadFile(sql, Number(m[2])).catch(() => null)
  if (!f || f.dataset_id !== Number(m[1]) || (f.file_name !== m[3] && f.file_name !== safeDecode(m[3]))) throw notFound('File', given.file_path)
  return f
}

/** decodeURIComponent, or null for a malformed escape (a name like "100%.csv" is shown as is). */
function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s)
  } catch {
    return null
  }
}

export async function downloadFile(sql: Sql, given: { file_path?: string; file_id?: number }): Promise<Response> {
  const f = await resolveDownload(sql, given)
  const body = await getFileStore().get(f.storage_key)
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${f.file_name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(f.file_name)}`,
      'Content-Length': String(f.size_bytes),
    },
  })
}

/** Removes a file: its rows from the dataset's bronze and silver tables, its record and error report, the stored object. */
export async function deleteFile(db: Db, caller: Caller, id: number) {
  const f = await withLoadTx(db, caller.claims, async (tx) => {
    const file = await loadFile(tx, id)
    await tx.query(`select 1 from public.datasets where id = $1 for update`, [file.dataset_id])
    const del = await tx.query(`delete from public.dataset_files where id = $1`, [id])
    if (!del.rowCount) throw notFound('File', id)
    const { rows: tables } = await tx.query<{ schema_name: string; table_name: string }>(
      `select schema_name, table_name from public.dataset_tables where dataset_id = $1 and schema_name in ('bronze', 'silver')`,
      [file.dataset_id],
    )
    await tx.asServer()
    for (const t of tables) await tx.query(`delete from ${ident(t.schema_name)}.${ident(t.table_name)} where _hd_file_id = $1`, [id])
    await tx.asCaller()
    await refreshDatasetTotals(tx, file.dataset_id)
    return file
  })
  await getFileStore()
    .delete(f.storage_key)
    .catch((e) => logError(e, { key: f.storage_key }))
  return { status: 'success', message: `File '${f.file_name}' deleted`, id }
}

const CSV_PAGE = 5000

/** A CSV cell; values a spreadsheet would run as a formula get a leading apostrophe (plain numbers stay as they are). */
function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v)
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * The full per-row error report of a file: JSON pages, or all of it as a CSV download streamed in pages of
 * 5,000 (each page its own short query as the caller, so memory stays flat however many errors there are).
 */
export async function fileErrorReport(sql: Sql, id: number, opts: { format: 'json' | 'csv'; skip: number; limit: number }) {
  const f = await loadFile(sql, id)
  if (opts.format === 'json') {
    const { rows } = await sql.query(
      `select row_number as row, column_name as column, value, rule, message from public.dataset_file_errors
        where file_id = $1 order by id offset $2 limit $3`,
      [id, opts.skip, opts.limit],
    )
    const { rows: n } = await sql.query<{ n: number }>(`select count(*)::int as n from public.dataset_file_errors where file_id = $1`, [id])
    return { file_id: id, file_name: f.file_name, total: n[0].n, skip: opts.skip, limit: opts.limit, errors: rows }
  }
  const encoder = new TextEncoder()
  let after = 0
  let started = false
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        let out = started ? '' : 'row,column,value,rule,message\r\n'
        started = true
        const { rows } = await sql.query<{ id: number; row: number; column: string | null; value: string | null; rule: string; message: string }>(
          `select id, row_number as row, column_name as column, value, rule, message from public.dataset_file_errors
            where file_id = $1 and id > $2 order by id limit ${CSV_PAGE}`,
          [id, after],
        )
        for (const r of rows) out += [r.row, r.column, r.value, r.rule, r.message].map(csvCell).join(',') + '\r\n'
        if (out) controller.enqueue(encoder.encode(out))
        if (rows.length < CSV_PAGE) controller.close()
        else after = rows[rows.length - 1].id
      } catch (e) {
        controller.error(e)
      }
    },
  })
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="errors-${id}-${f.file_name.replace(/[^\w.-]/g, '_')}"`,
    },
  })
}
