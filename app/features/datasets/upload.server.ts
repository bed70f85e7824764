import crypto from 'node:crypto'
import { withoutNul } from '#app/http/schemas.ts'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import busboy from 'busboy'
import { z } from 'zod'
import { asCaller, type Db } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/caller.server.ts'
import { PG_TYPES, type DataType } from '#app/features/templates/column-types.ts'
import { isSystemColumn, MAX_COLUMNS, SYSTEM_COLUMNS, type ColumnSpec } from '#app/features/templates/template-schema.ts'
import { ApiError, badRequest, conflict, notFound } from '#app/http/errors.server.ts'
import { logError } from '#app/http/log.server.ts'
import { CsvError, type CsvLimits } from './csv.server.ts'
import { openCsvRecords } from './csv-records.ts'
import { getFileStore } from './file-store.server.ts'
import { getLiveThreadPool, getThreadPool, LIVE_THREADS, type ThreadPool } from '#app/jobs/thread-pool.server.ts'
import type { EncodeStoredInput, EncodeStoredResult, PostedChunk } from './encode.thread.ts'
import { bufferBytes, encodeCsv, type EncodedFile } from './file-encoder.ts'
import { SlotRing } from './slot-ring.ts'
import { ChannelWriter } from './byte-channel.ts'
import { openSink, type CopySink } from './copy-sink.server.ts'
import { openSideLoad, type SideLoad } from './side-load.server.ts'
import { ident, withLoadTx, type LoadTx } from './load-tx.server.ts'
import { ICEBERG_NAME_RE, normalizeUsage, physicalTable, tableNameFrom, VALIDITY_THRESHOLD } from './model.ts'
import { planFile, planWithoutTemplate, RowProcessor, TypeInferer, type ErrorReportSummary } from './row-validation.ts'

/**
 * Upload: multipart files are streamed to the file store as they arrive; then, in one transaction, each file is
 * streamed back, parsed, validated row by row against the template and bulk-loaded (COPY) into the dataset's
 * bronze (raw text) and silver (typed, valid rows only) tables, with its per-row error report. Any failure
 * rolls the transaction back and deletes the stored files: nothing is left behind.
 */

export const MAX_FILES = 20
export const MAX_FILE_BYTES = 2 * 1024 ** 3
/** A whole upload request: every file at its limit, plus room for the multipart framing and fields (413 past it). */
export const MAX_UPLOAD_BODY_BYTES = MAX_FILES * MAX_FILE_BYTES + 8 * 1024 * 1024

export interface ReceivedFile {
  fileName: string
  key: string
  size: number
  /** A file processed while it arrives: its bytes come through this channel; `size` is known once `stored` settles. */
  live?: { channel: ChannelWriter; stored: Promise<number> }
}

/**
 * Called at the first file part with the form fields sent before it: a channel to receive that file's bytes as they
 * arrive (they are still stored as well), or null.
 */
export type FileTap = (fields: Record<string, string>, file: { fileName: string; key: string }) => ChannelWriter | null

const uploadParams = z.object({
  dataset_name: z.string('is required').trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(withoutNul, 'must not contain NUL characters'),
  usage: z.string('is required').trim().min(1, 'must not be empty'),
  template_id: z.coerce.number('must be an integer id').int('must be an integer id').positive('must be a positive id').optional(),
  iceberg_table_name: z.string().trim().optional(),
})

function safeFileName(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const base = path.basename((name ?? '').replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f/]/g, '').trim()
  return (base || 'upload.csv').slice(0, 255)
}

/**
 * Streams the multipart body: `files` parts go to the store, other parts are fields. `tap` may take the first file's
 * bytes as they arrive (see FileTap); its channel is ended when the file is complete and failed otherwise.
 */
export async function receiveUpload(request: Request, tenantId: string, tap?: FileTap): Promise<{ fields: Record<string, string>; files: ReceivedFile[] }> {
  const ct = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data/i.test(ct)) throw badRequest('files', "send the file(s) as multipart/form-data in a part named 'files'")
  if (!request.body) throw badRequest('files', 'no file was sent')
  const store = getFileStore()
  const fields: Record<string, string> = {}
  const files: (ReceivedFile & { truncated: boolean })[] = []
  const puts: Promise<unknown>[] = []
  let tapped = false
  let tooMany = false
  let bb: busboy.Busboy
  try {
    bb = busboy({ headers: { 'content-type': ct }, defParamCharset: 'utf8', limits: { files: MAX_FILES, fileSize: MAX_FILE_BYTES, fields: 50, fieldSize: 64 * 1024, parts: 100 } })
  } catch {
    throw badRequest('files', 'the multipart body has no boundary')
  }
  const prefix = `tenants/${tenantId}/uploads/${new Date().toISOString().slice(0, 10)}`
  try {
    await new Promise<void>((resolve, reject) => {
      bb.on('field', (name, value) => {
        fields[name] = value
      })
      bb.on('file', (name, stream, info) => {
        if (name !== 'files' && name !== 'file') {
          stream.resume()
          return
        }
        const entry: ReceivedFile & { truncated: boolean } = { fileName: safeFileName(info.filename), key: `${prefix}/${crypto.randomUUID()}.csv`, size: 0, truncated: false }
        files.push(entry)
        stream.on('limit', () => (entry.truncated = true))
        const channel = !tapped && tap ? tap({ ...fields }, entry) : null
        tapped = true
        // The part may fail (the client went away) before the store attaches to it: the store's write reports it.
        stream.on('error', () => {})
        const tee = channel && teeInto(stream, channel, () => entry.truncated)
        const put = store.put(entry.key, tee ?? stream)
        if (channel) {
          // Awaited by the load once the file is parsed; a failed write is reported by this receive.
          const size = put.then((r) => r.size)
          size.catch(() => {})
          entry.live = { channel, stored: size }
        }
        const stored = put.then(
          (r) => void (entry.size = r.size),
          (e) => {
            // Read the rest of the part into nothing, so the body goes on (and the tee's reader fails).
            if (tee) {
              tee.destroy(e as Error)
              stream.unpipe(tee)
            }
            stream.resume()
            throw e
          },
        )
        stored.catch(() => {}) // reported by Promise.all(puts) once the body is read
        puts.push(stored)
      })
      bb.on('filesLimit', () => (tooMany = true))
      bb.on('error', reject)
      bb.on('close', resolve)
      Readable.fromWeb(request.body as any)
        .on('error', (e) => {
          // The client went away: end the file part being read too (busboy destroys it), or its store write waits forever.
          bb.destroy(e)
          reject(e)
        })
        .pipe(bb)
    })
    await Promise.all(puts)
    if (tooMany) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `At most ${MAX_FILES} files per upload`)
    const cut = files.find((f) => f.truncated)
    if (cut) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `${cut.fileName}: larger than ${MAX_FILE_BYTES} bytes`)
  } catch (e) {
    // A file taken as it arrives is not complete: its reader must not wait for more.
    for (const f of files) f.live?.channel.fail()
    await Promise.allSettled(puts)
    await deleteStored(files)
    if (e instanceof ApiError) throw e
    throw badRequest('files', 'the multipart body could not be read')
  }
  return { fields, files: files.map(({ fileName, key, size }) => ({ fileName, key, size })) }
}

/**
 * The file part's bytes, each also written to `channel` first (its room bounds how far the reader may lag); the
 * channel is ended with the part, or failed if the part was cut short or broke.
 */
function teeInto(part: Readable, channel: ChannelWriter, truncated: () => boolean): Transform {
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      channel.write(chunk).then(
        () => done(null, chunk),
        (e) => done(e as Error),
      )
    },
    flush(done) {
      if (truncated()) channel.fail()
      else channel.end()
      done()
    },
    destroy(err, done) {
      channel.fail()
      done(err)
    },
  })
  part.on('error', (e) => tee.destroy(e))
  // An error before the store attaches to the tee: the store's write reports it.
  tee.on('error', () => {})
  return part.pipe(tee)
}

async function deleteStored(files: { key: string }[]) {
  const store = getFileStore()
  await Promise.all(files.map((f) => store.delete(f.key).catch((e) => logError(e, { key: f.key }))))
}

/** A CSV problem as the 400 the caller sees, naming the file. */
function csvFailure(e: unknown, fileName: string): unknown {
  if (e instanceof CsvError) {
    return new ApiError(400, 'INVALID_DATASET', `${fileName}: ${e.message}`, {
      file: fileName,
      rule: e.rule,
      ...e.details,
      fields: [{ field: 'files', message: `${fileName}: ${e.message}` }],
    })
  }
  // A row wider than a Postgres page can hold (many wide columns): the file's shape, not a server fault.
  const code = (e as { code?: string } | null)?.code
  if (code === '54000' || code === '54011') {
    const message = `${fileName}: a row is too wide to store (too many columns or too much text in one row)`
    return new ApiError(400, 'INVALID_DATASET', message, { file: fileName, rule: 'row_too_wide', fields: [{ field: 'files', message }] })
  }
  // On PostgreSQL the driver loses the COPY's own error (see load-tx): after validation, the rows' width is the cause.
  if ((e as { copyRejected?: boolean } | null)?.copyRejected) {
    const message = `${fileName}: the database rejected the rows (a row is probably too wide: too many columns or too much text in one row)`
    return new ApiError(400, 'INVALID_DATASET', message, { file: fileName, rule: 'rows_rejected', fields: [{ field: 'files', message }] })
  }
  return e
}

async function* storedBytes(key: string): AsyncGenerator<Uint8Array> {
  yield* await getFileStore().read(key)
}

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

interface DatasetTarget {
  id: number
  tenantId: string
  columns: ColumnSpec[]
  bronze: string
  silver: string
  /** A new dataset's bronze table lives on this second transaction (Postgres), loaded alongside silver. */
  side?: SideLoad
}

/** Infers column types over every row of every file (first file's header defines the columns). */
export async function inferColumns(files: ReceivedFile[], limits?: Partial<CsvLimits>): Promise<ColumnSpec[]> {
  let columns: ColumnSpec[] | null = null
  let inferer: TypeInferer | null = null
  for (const f of files) {
    try {
      const csv = await openCsvRecords(storedBytes(f.key), limits)
      if (!columns) {
        if (csv.header.length > MAX_COLUMNS) {
          throw new CsvError('too_many_columns', `The header has ${csv.header.length} columns; at most ${MAX_COLUMNS} are supported`)
        }
        const validNames = csv.header.filter((h) => Buffer.byteLength(h) <= 63 && !h.toLowerCase().startsWith('_hd_') && !isSystemColumn(h))
        if (validNames.length !== csv.header.length) {
          throw new CsvError('bad_header', `Column names must be at most 63 bytes, must not start with _hd_ and must not be one of ${[...SYSTEM_COLUMNS].join(', ')}`)
        }
        columns = planWithoutTemplate(csv.header, []).columns
        inferer = new TypeInferer(csv.header)
      }
      const plan = planFile(csv.header, columns)
      for await (const b of csv.batches) {
        const rows: string[][] = []
        for (let r = 0; r < b.n; r++) {
          const base = r * b.cols
          rows.push(plan.source.map((i) => (i >= 0 ? b.buf.toString('utf8', b.fs[base + i], b.fe[base + i]) : '')))
        }
        inferer!.observe(rows)
      }
    } catch (e) {
      throw csvFailure(e, f.fileName)
    }
  }
  const types = inferer!.types()
  return columns!.map((c, i) => ({ ...c, data_type: types[i] }))
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

/** COPY chunk size: each COPY costs a round trip (and a delayed ACK on the connection), so they are large. */
const COPY_CHUNK_BYTES = 8 * 1024 * 1024
/** Chunk size when the silver COPY streams (no per-chunk COPY). */
const STREAM_CHUNK_BYTES = 1024 * 1024
/** How far parsing may run ahead of Postgres, in bytes of COPY text (memory stays flat). */
const MAX_AHEAD_BYTES = 32 * 1024 * 1024
/** Files at least this large are parsed and validated on a pool thread while this thread feeds Postgres. */
const threadMinBytes = () => Number(process.env.HD_UPLOAD_THREAD_MIN_BYTES ?? 4 * 1024 * 1024)

function poolIsFree(): boolean {
  const s = getThreadPool().stats()
  return s.busy < s.size && s.queued === 0
}

/**
 * With a streaming sink, the pool thread writes bronze and silver into shared slots (slot-ring.ts) and runs at most
 * this far ahead of Postgres: the slots cover that window, so chunks allocate nothing. The sockets' own buffers
 * hold several MiB more.
 */
const RING_AHEAD_BYTES = 8 * 1024 * 1024
const RING_SLOTS = 2 * (RING_AHEAD_BYTES / STREAM_CHUNK_BYTES) + 4
/** Rings of finished uploads, for the next ones (a ring is created once, not per upload). */
const idleRings: SlotRing[] = []
const takeRing = () => idleRings.pop() ?? SlotRing.create(RING_SLOTS, bufferBytes(STREAM_CHUNK_BYTES))
function returnRing(ring: SlotRing) {
  // Only a ring whose slots are all back (its thread ended normally) is reused; at most one per thread of both pools.
  if (ring.lent() === 0 && idleRings.length < getThreadPool().size + MAX_LIVE_LOADS) idleRings.push(ring)
}

/** Parses and validates on a pool thread; the sink gets each chunk in order. Returns what encodeCsv returns. */
async function encodeOnThread(input: Omit<EncodeStoredInput, 'flow' | 'aheadKiB' | 'ring'>, sink: CopySink, ring?: SlotRing, pool: ThreadPool = getThreadPool()): Promise<EncodedFile> {
  const flow = new SharedArrayBuffer(4)
  const loaded = new Int32Array(flow)
  const ac = new AbortController()
  const ignore = () => {}
  const onProgress = (v: unknown) => {
    const c = v as PostedChunk
    if (sink.failed) return ac.abort()
    const shared = [c.bronzeSlot, c.silverSlot].filter((s) => s >= 0)
    const chunk = shared.length
      ? { ...c, bronze: c.bronzeSlot >= 0 ? ring!.view(c.bronzeSlot, c.bronzeBytes) : c.bronze, silver: c.silverSlot >= 0 ? ring!.view(c.silverSlot, c.silverBytes) : c.silver }
      : c
    sink.load(chunk).catch(ignore)
    // Once written (or failed), the chunk's slots are the thread's again.
    sink.absorbed(() => {
      for (const s of shared) ring!.release(s)
      Atomics.add(loaded, 0, c.kib)
      Atomics.notify(loaded, 0)
    })
  }
  const r = await pool.run<EncodeStoredResult>(
    '#app/features/datasets/encode.thread.ts',
    'encodeStoredFile',
    { ...input, flow, aheadKiB: Math.ceil((ring ? RING_AHEAD_BYTES : MAX_AHEAD_BYTES) / 1024), ring: ring?.spec } satisfies EncodeStoredInput,
    { signal: ac.signal, onProgress },
  )
  if (!r.ok) throw new CsvError(r.rule, r.message, r.details)
  return r.file
}

/** Loads one stored file into the dataset's tables; returns its API record. */
async function loadFile(tx: LoadTx, target: DatasetTarget, file: ReceivedFile, limits?: Partial<CsvLimits>): Promise<FileOut> {
  const { rows } = await tx.query<{ id: number }>(
    `insert into public.dataset_files (tenant_id, dataset_id, file_name, storage_key, size_bytes) values ($1, $2, $3, $4, $5) returning id`,
    [target.tenantId, target.id, file.fileName, file.key, file.size],
  )
  const fileId = rows[0].id
  let encoded: EncodedFile
  let ring: SlotRing | undefined
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
  const input = { key: file.key, columns: target.columns, fileId, tenantId: target.tenantId, limits, flushBytes: tx.streamCopy ? STREAM_CHUNK_BYTES : COPY_CHUNK_BYTES }
  try {
    if (file.live) {
      // Read as it arrives, on a thread of the live pool (its reader blocks, and may wait on the client for long); the
      // writer must never wait for a reader that is gone.
      ring = tx.streamCopy ? takeRing() : undefined
      encoded = await encodeOnThread({ ...input, live: file.live.channel.spec }, sink, ring, getLiveThreadPool()).finally(() => file.live!.channel.cancel())
      file.size = await file.live.stored
    } else if (file.size >= threadMinBytes() && poolIsFree()) {
      ring = tx.streamCopy ? takeRing() : undefined
      encoded = await encodeOnThread(input, sink, ring)
    } else {
      const it = encodeCsv(storedBytes(file.key), input)
      for (;;) {
        const n = await it.next()
        if (n.done) {
          encoded = n.value
          break
        }
        await sink.load(n.value)
      }
    }
    timing('parsed', T0)
    await sink.finish()
    if (ring) returnRing(ring)
    timing('copied', T0)
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

async function loadTemplate(tx: LoadTx, templateId: number): Promise<ColumnSpec[]> {
  const { rows } = await tx.query<{ template_schema: ColumnSpec[] }>(`select template_schema from public.templates where id = $1`, [templateId])
  if (!rows.length) throw notFound('Template', templateId)
  if (!rows[0].template_schema.length) throw badRequest('template_id', 'the template has no columns')
  return rows[0].template_schema
}

/**
 * Uploads that load bronze on a second connection at once: each holds two pool connections, so they are few (the
 * rest load bronze after silver on one connection, as files/add always does).
 */
const MAX_SIDE_LOADS = 2
let sideLoads = 0
async function sideLoad(db: Db): Promise<SideLoad | null> {
  // Each such upload may hold one connection while it waits for its second: the pool must keep one more for them.
  if (db.engine !== 'postgres' || db.poolSize < MAX_SIDE_LOADS + 2 || sideLoads >= MAX_SIDE_LOADS || process.env.HD_UPLOAD_SIDE_LOAD === 'off') return null
  sideLoads++
  try {
    const side = await openSideLoad(db)
    if (!side) sideLoads--
    return side
  } catch (e) {
    sideLoads--
    throw e
  }
}

let T0 = 0
// HD_UPLOAD_TIMING=1 prints the phases of each upload (used by bench/datasets.ts).
const timing = (phase: string, t0: number) => {
  if (process.env.HD_UPLOAD_TIMING) console.log(`[upload] ${phase} after ${Math.round(performance.now() - t0)} ms`)
}

type UploadParams = z.infer<typeof uploadParams> & { usage: string }

/** The upload's parameters from the form fields and the query string (which wins), checked: a 400 naming the field. */
function checkParams(merged: Record<string, unknown>): UploadParams {
  const parsed = uploadParams.safeParse(merged)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw badRequest(String(i.path[0] ?? 'query'), i.message)
  }
  const p = parsed.data
  const usage = normalizeUsage(p.usage)
  if (!usage) throw badRequest('usage', "must be one of p (prediction), t (training), f (forecasting), e (evaluation), o (other)")
  if (p.iceberg_table_name !== undefined && p.iceberg_table_name !== '' && !ICEBERG_NAME_RE.test(p.iceberg_table_name)) {
    throw badRequest('iceberg_table_name', 'use lower-case letters, digits and _, starting with a letter, at most 48 characters')
  }
  return { ...p, usage }
}

/**
 * Uploads loaded while their first file arrives (see uploadDataset): each holds a transaction and a thread of the
 * live pool for as long as its client takes to send, so they are few: one thread each, so none waits for a thread.
 */
const MAX_LIVE_LOADS = LIVE_THREADS
let liveLoads = 0
/** Uploads started while their first file arrived, since the process started (tests check the path was taken). */
export const uploadCounters = { live: 0 }

function canLoadLive(db: Db, request: Request): boolean {
  if (db.engine !== 'postgres' || process.env.HD_UPLOAD_LIVE === 'off' || liveLoads >= MAX_LIVE_LOADS) return false
  // A body known to be small is received in no time: storing it first costs nothing and holds nothing open.
  const length = Number(request.headers.get('content-length') ?? NaN)
  return !(length < threadMinBytes())
}

/**
 * POST /api/v1/dataset/upload
 *
 * On Postgres, when the parameters (query string, or form fields sent before the files) name a template, the first
 * file is parsed, validated and loaded while it arrives: the load's transaction opens at its first byte, and its
 * bytes reach the pool thread through a ByteChannel as well as the file store. Otherwise, and for the other
 * files, each file is stored whole first. Either way nothing commits before the whole body has arrived, and a
 * failure anywhere leaves nothing behind.
 */
export async function uploadDataset(
  db: Db,
  caller: Caller,
  request: Request,
  query: Record<string, unknown>,
  limits?: Partial<CsvLimits>,
): Promise<UploadResult> {
  const t0 = (T0 = performance.now())
  const fromQuery = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== ''))
  let live: Promise<UploadResult> | null = null
  const tap: FileTap = (fields, first) => {
    if (!canLoadLive(db, request)) return null
    let p: UploadParams
    try {
      p = checkParams({ ...fields, ...fromQuery })
    } catch {
      return null // reported once the body is in, as for any upload
    }
    if (p.template_id === undefined) return null
    const channel = new ChannelWriter()
    // The first file as it arrives, then the others once stored; the parameters must not change after the first file.
    async function* files(): AsyncGenerator<ReceivedFile> {
      yield first as ReceivedFile
      const all = await received
      if (JSON.stringify(checkParams({ ...all.fields, ...fromQuery })) !== JSON.stringify(p)) {
        throw badRequest('files', 'send the form fields before the files (a field after a file changed the upload)')
      }
      yield* all.files.slice(1)
    }
    liveLoads++
    uploadCounters.live++
    live = loadDataset(db, caller, p, undefined, files(), limits).finally(() => {
      liveLoads--
      channel.cancel()
    })
    live.catch(() => {})
    return channel
  }
  const received = receiveUpload(request, caller.tenantId, tap)
  received.catch(() => {})
  let rx: Awaited<typeof received>
  try {
    rx = await received
  } catch (e) {
    // The stored files are gone; a load that started rolls back (its file's channel failed).
    await (live as Promise<UploadResult> | null)?.catch(() => {})
    throw e
  }
  timing('received', t0)
  const { fields, files } = rx
  try {
    if (live) return await live
    if (!files.length) throw badRequest('files', "no file was sent (multipart part 'files')")
    const p = checkParams({ ...fields, ...fromQuery })
    const inferred = p.template_id === undefined ? await inferColumns(files, limits) : undefined
    return await loadDataset(db, caller, p, inferred, files, limits)
  } catch (e) {
    await deleteStored(files)
    throw e
  }
}

/** Creates the dataset and loads its files in one transaction (with bronze on a second one when it can). */
async function loadDataset(
  db: Db,
  caller: Caller,
  p: UploadParams,
  inferred: ColumnSpec[] | undefined,
  files: ReceivedFile[] | AsyncIterable<ReceivedFile>,
  limits?: Partial<CsvLimits>,
): Promise<UploadResult> {
  const side = await sideLoad(db)
  try {
    return await withLoadTx(db, caller.claims, async (tx) => {
      const columns = inferred ?? (await loadTemplate(tx, p.template_id!))
      const result = await createDataset(tx, caller.tenantId, p, columns, inferred !== undefined, files, limits, side ?? undefined)
      timing('loaded', T0)
      return result
    }).then(
      (r) => {
        timing('committed', T0)
        return r
      },
      (e) => {
        timing('rolled back', T0)
        throw e
      },
    )
  } catch (e) {
    await side?.discard()
    throw e
  } finally {
    if (side) sideLoads--
  }
}

/** How long an upload waits for another, uncommitted one that wants the same dataset name. */
const NAME_WAIT_MS = 3000

/** Creates the dataset row, its bronze/silver tables and loads the stored files, inside the load transaction. */
export async function createDataset(
  tx: LoadTx,
  tenantId: string,
  p: { dataset_name: string; usage: string; template_id?: number; iceberg_table_name?: string },
  columns: ColumnSpec[],
  inferred: boolean,
  files: ReceivedFile[] | AsyncIterable<ReceivedFile>,
  limits?: Partial<CsvLimits>,
  side?: SideLoad,
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
    side,
  }
  await createTables(tx, target, tableName)
  const out: FileOut[] = []
  for await (const f of files) out.push(await loadFile(tx, target, f, limits))
  await refreshDatasetTotals(tx, target.id)
  if (side) {
    await tx.asServer()
    await side.commitBefore(tx)
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

/** POST /api/v1/files/add?dataset_id= */
export async function addFiles(db: Db, caller: Caller, request: Request, datasetId: number, limits?: Partial<CsvLimits>): Promise<UploadResult> {
  // Before reading the upload: an unknown (or another tenant's) dataset is a 404 without storing anything.
  const known = await asCaller(db, caller.claims, (tx) => tx.query(`select 1 from public.datasets where id = $1`, [datasetId]))
  if (!known.rows.length) throw notFound('Dataset', datasetId)
  const { files } = await receiveUpload(request, caller.tenantId)
  try {
    if (!files.length) throw badRequest('files', "no file was sent (multipart part 'files')")
    return await withLoadTx(db, caller.claims, async (tx) => {
      const { rows } = await tx.query<{ id: number; dataset_name: string; data_source: string; columns: ColumnSpec[] }>(
        `select d.id, d.dataset_name, d.data_source, d.columns from public.datasets d where d.id = $1 for update`,
        [datasetId],
      )
      if (!rows.length) throw notFound('Dataset', datasetId)
      const { rows: tables } = await tx.query<{ schema_name: string; table_name: string }>(
        `select schema_name, table_name from public.dataset_tables where dataset_id = $1`,
        [datasetId],
      )
      const bronze = tables.find((t) => t.schema_name === 'bronze')?.table_name
      const silver = tables.find((t) => t.schema_name === 'silver')?.table_name
      if (!bronze || !silver) throw new ApiError(409, 'CONFLICT', 'The dataset has no datalake tables')
      const target: DatasetTarget = { id: datasetId, tenantId: caller.tenantId, columns: rows[0].columns, bronze, silver }
      const out: FileOut[] = []
      for (const f of files) out.push(await loadFile(tx, target, f, limits))
          await refreshDatasetTotals(tx, datasetId)
      await tx.query(`update public.datasets set modified_at = now() where id = $1`, [datasetId])
      return { dataset_id: datasetId, dataset_name: rows[0].dataset_name, data_source: rows[0].data_source, files: out }
    })
  } catch (e) {
    await deleteStored(files)
    throw e
  }
}
