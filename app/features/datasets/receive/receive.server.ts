import crypto from 'node:crypto'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import busboy from 'busboy'
import { ApiError, badRequest } from '#app/http/errors.server.ts'
import { logError } from '#app/http/log.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import type { ChannelWriter } from './byte-channel.server.ts'

/**
 * Receiving: a multipart body streamed into the file store, part by part, never whole in memory. The first file may
 * also be teed into a ByteChannel (see FileTap) so it is parsed while it arrives. A body that breaks off, is too
 * large or cannot be read leaves no stored file behind.
 */

export const MAX_FILES = 20
export const MAX_FILE_BYTES = 2 * 1024 ** 3
/** A whole upload request: every file at its limit, plus room for the multipart framing and fields (413 past it). */
export const MAX_UPLOAD_BODY_BYTES = MAX_FILES * MAX_FILE_BYTES + 8 * 1024 * 1024
/** A client that sends no byte for this long while the server waits for one is cut off (408). */
export const uploadIdleMs = () => Math.max(0.1, Number(process.env.HD_UPLOAD_IDLE_SECONDS ?? 60)) * 1000

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

function safeFileName(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const base = path.basename((name ?? '').replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f/]/g, '').trim()
  return (base || 'upload.csv').slice(0, 255)
}

/**
 * Streams the multipart body: `files` parts go to the store, other parts are fields. `tap` may take the first file's
 * bytes as they arrive (see FileTap); its channel is ended when the file is complete and failed otherwise.
 */
export async function receiveUpload(
  request: Request,
  tenantId: string,
  tap?: FileTap,
  progress?: ClientProgress,
): Promise<{ fields: Record<string, string>; files: ReceivedFile[] }> {
  const ct = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data/i.test(ct)) throw badRequest('files', "send the file(s) as multipart/form-data in a part named 'files'")
  const body = request.body
  if (!body) throw badRequest('files', 'no file was sent')
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
      Readable.fromWeb(watchClient(body, uploadIdleMs(), progress) as any)
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

/** Counts the bytes the client has sent so far (the load keeps its transaction alive only while this grows). */
export interface ClientProgress {
  bytes: number
}

/**
 * The request body as the receive reads it, failing with a 408 when the client sends nothing for `idleMs` while a
 * read waits for it. Only the client's silence counts: while the receive itself is slow (the store, or a load it
 * feeds, pushing back), no read is pending and no time runs.
 */
function watchClient(body: ReadableStream<Uint8Array>, idleMs: number, progress?: ClientProgress): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const s = Math.round(idleMs / 100) / 10
            reject(new ApiError(408, 'REQUEST_TIMEOUT', `The upload stopped: nothing was received for ${s} s`, { fields: [{ field: 'files', message: `nothing received for ${s} s` }], idle_seconds: s }))
          }, idleMs)
        })
        try {
          const r = await Promise.race([reader.read(), stalled])
          if (r.done) controller.close()
          else {
            if (progress) progress.bytes += r.value.byteLength
            controller.enqueue(r.value)
          }
        } catch (e) {
          reader.cancel(e).catch(() => {})
          controller.error(e)
        } finally {
          clearTimeout(timer)
        }
      },
      cancel(reason) {
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
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

/** Deletes stored files (after a failed upload); a failed delete is logged, never thrown. */
export async function deleteStored(files: { key: string }[]) {
  const store = getFileStore()
  await Promise.all(files.map((f) => store.delete(f.key).catch((e) => logError(e, { key: f.key }))))
}

/** A stored file's bytes, read back as a stream. */
export async function* storedBytes(key: string): AsyncGenerator<Uint8Array> {
  yield* await getFileStore().read(key)
}
