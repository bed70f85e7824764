import type { Db } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { badRequest, notFound } from '#app/http/errors.server.ts'
import type { CsvLimits } from '../csv/csv.server.ts'
import { inferColumns } from '../csv/infer.server.ts'
import { threadMinBytes } from '../load/encode-paths.server.ts'
import { createDataset, type UploadResult } from '../load/load-file.server.ts'
import { loadIdleMs, withLoadTx, type LoadTx } from '../load/load-tx.server.ts'
import { ChannelWriter } from '../receive/byte-channel.server.ts'
import { deleteStored, receiveUpload, type ClientProgress, type FileTap, type ReceivedFile } from '../receive/receive.server.ts'
import { admitUpload, takeLiveSlot, takeSideLoad } from './admission.server.ts'
import { checkParams, type UploadParams } from './params.server.ts'
import { UploadRun } from './run.server.ts'

/**
 * POST /api/v1/dataset/upload: the order of things (README.md has the path matrix).
 *
 * 1. Admission: a place among the tenant's concurrent uploads (admission.server.ts), before any byte is read.
 * 2. Receive the multipart body into the file store (receive/). On Postgres, when the parameters (query string, or
 *    form fields sent before the files) name a template, the first file is also teed into a ByteChannel and loaded
 *    while it arrives: the load's transaction opens at its first byte. The other files are stored whole first.
 * 3. Load in one transaction (load/): dataset row, tables, each file parsed and validated (csv/) on the request's
 *    thread or a pool thread, COPYed into silver and bronze (bronze on a second connection when it can).
 * Nothing commits before the whole body has arrived, and a failure anywhere leaves nothing behind.
 */
export async function uploadDataset(db: Db, caller: Caller, request: Request, query: Record<string, unknown>, limits?: Partial<CsvLimits>): Promise<UploadResult> {
  const release = admitUpload(caller.tenantId)
  try {
    return await receiveAndLoad(db, caller, request, query, new UploadRun(), limits)
  } finally {
    release()
  }
}

async function receiveAndLoad(db: Db, caller: Caller, request: Request, query: Record<string, unknown>, run: UploadRun, limits?: Partial<CsvLimits>) {
  const fromQuery = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== ''))
  const progress: ClientProgress = { bytes: 0 }
  let live: Promise<UploadResult> | null = null
  const tap: FileTap = (fields, first) => {
    if (!mayLoadLive(db, request)) return null
    let p: UploadParams
    try {
      p = checkParams({ ...fields, ...fromQuery })
    } catch {
      return null // reported once the body is in, as for any upload
    }
    if (p.template_id === undefined) return null
    const slot = takeLiveSlot()
    if (!slot) return null
    const channel = new ChannelWriter()
    let touch: (() => Promise<void>) | undefined
    // The first file as it arrives, then the others once stored; the parameters must not change after the first file.
    async function* files(): AsyncGenerator<ReceivedFile> {
      yield first as ReceivedFile
      const all = await restOfBody(received, progress, () => touch?.())
      if (JSON.stringify(checkParams({ ...all.fields, ...fromQuery })) !== JSON.stringify(p)) {
        throw badRequest('files', 'send the form fields before the files (a field after a file changed the upload)')
      }
      yield* all.files.slice(1)
    }
    live = loadNewDataset(db, caller, p, undefined, files(), run, limits, (t) => (touch = t)).finally(() => {
      slot()
      channel.cancel()
    })
    live.catch(() => {})
    return channel
  }
  const received = receiveUpload(request, caller.tenantId, tap, progress)
  received.catch(() => {})
  let rx: Awaited<typeof received>
  try {
    rx = await received
  } catch (e) {
    // The stored files are gone; a load that started rolls back (its file's channel failed).
    await (live as Promise<UploadResult> | null)?.catch(() => {})
    throw e
  }
  run.mark('received')
  const { fields, files } = rx
  try {
    if (live) return await live
    if (!files.length) throw badRequest('files', "no file was sent (multipart part 'files')")
    const p = checkParams({ ...fields, ...fromQuery })
    const inferred = p.template_id === undefined ? await inferColumns(files, limits) : undefined
    return await loadNewDataset(db, caller, p, inferred, files, run, limits)
  } catch (e) {
    await deleteStored(files)
    throw e
  }
}

/** Postgres only (a live load holds its transaction, and PGlite has one connection), and not for a body known to be small. */
function mayLoadLive(db: Db, request: Request): boolean {
  if (db.engine !== 'postgres' || process.env.HD_UPLOAD_LIVE === 'off') return false
  // A body known to be small is received in no time: storing it first costs nothing and holds nothing open.
  const length = Number(request.headers.get('content-length') ?? NaN)
  return !(length < threadMinBytes())
}

/**
 * The rest of the body, for a live load whose first file is in: meanwhile its transactions sit idle, and Postgres
 * ends them after loadIdleMs. While the client keeps sending they are touched, so only a stalled one is ended.
 */
async function restOfBody<T>(received: Promise<T>, progress: ClientProgress, touch: () => Promise<void> | undefined): Promise<T> {
  const every = Math.min(5000, loadIdleMs() / 4)
  let seen = progress.bytes
  let settled = false
  received.then(
    () => (settled = true),
    () => (settled = true),
  )
  while (!settled) {
    await Promise.race([received.catch(() => {}), new Promise((r) => setTimeout(r, every))])
    if (!settled && progress.bytes !== seen) {
      seen = progress.bytes
      await touch()
    }
  }
  return received
}

/** Creates the dataset and loads its files in one transaction (with bronze on a second one when it can). */
async function loadNewDataset(
  db: Db,
  caller: Caller,
  p: UploadParams,
  inferred: ColumnSpec[] | undefined,
  files: ReceivedFile[] | AsyncIterable<ReceivedFile>,
  run: UploadRun,
  limits?: Partial<CsvLimits>,
  /** Gets a function that touches the load's transactions (a live load calls it while waiting on its client). */
  onOpen?: (touch: () => Promise<void>) => void,
): Promise<UploadResult> {
  const taken = await takeSideLoad(db)
  try {
    const result = await withLoadTx(db, caller.claims, async (tx) => {
      onOpen?.(async () => {
        await tx.query('select 1')
        await taken?.side.tx.query('select 1')
      })
      const columns = inferred ?? (await loadTemplate(tx, p.template_id!))
      const r = await createDataset(tx, caller.tenantId, p, columns, inferred !== undefined, files, { limits, side: taken?.side, phases: run })
      run.mark('loaded')
      return r
    }).catch((e) => {
      run.mark('rolled back')
      throw e
    })
    run.mark('committed')
    return result
  } catch (e) {
    await taken?.side.discard()
    throw e
  } finally {
    taken?.release()
  }
}

async function loadTemplate(tx: LoadTx, templateId: number): Promise<ColumnSpec[]> {
  const { rows } = await tx.query<{ template_schema: ColumnSpec[] }>(`select template_schema from public.templates where id = $1`, [templateId])
  if (!rows.length) throw notFound('Template', templateId)
  if (!rows[0].template_schema.length) throw badRequest('template_id', 'the template has no columns')
  return rows[0].template_schema
}
