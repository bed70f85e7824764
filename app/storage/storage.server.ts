import crypto from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { createRequire } from 'node:module'
import { getEnv } from '#app/env.server.ts'
import { badRequest, notFound } from '#app/http/errors.server.ts'

/*
  File storage behind one interface: local disk under `${DATA_DIR}/files` by default, a Supabase Storage
  bucket when SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are set. Keys are relative paths chosen by the
  server (e.g. `<tenant_id>/datasets/<id>.csv`), never a user's raw path: they are validated all the same.
*/

export type FileBody = Buffer | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>

export interface FileStore {
  readonly kind: 'local' | 'supabase'
  /** Writes (or replaces) the file; returns its size in bytes. */
  put(key: string, body: FileBody): Promise<{ size: number }>
  /** The file's bytes as a stream; 404 ApiError when it does not exist. */
  get(key: string): Promise<ReadableStream<Uint8Array>>
  /**
   * The same bytes as Node chunks (about 1 MiB on local disk): cheaper to iterate than a web stream, for bulk reads.
   * `reuse`: the chunks may share one buffer, overwritten by the next; for a reader that copies each chunk (or is
   * done with it) before it asks for the next, and allocates nothing per chunk.
   */
  read(key: string, opts?: { reuse?: boolean }): Promise<AsyncIterable<Uint8Array>>
  /** Removes the file; no error when it does not exist. */
  delete(key: string): Promise<void>
  exists(key: string): Promise<boolean>
}

const MAX_KEY_LENGTH = 512
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/

/**
 * A key is 1–16 `/`-separated segments of letters, digits and `._=+-` (not starting with a dot), so it
 * can name neither a parent directory nor an absolute path on any OS. Throws a 400 naming `key`.
 */
export function assertValidKey(key: string): string {
  if (typeof key !== 'string' || !key.length || key.length > MAX_KEY_LENGTH) throw badRequest('key', `must be 1-${MAX_KEY_LENGTH} characters`)
  const segments = key.split('/')
  if (segments.length > 16 || !segments.every((s) => SEGMENT.test(s) && s !== '..' && s !== '.')) {
    throw badRequest('key', 'must be a relative path of letters, digits and . _ = + - segments (no "..", no leading "/" or ".")')
  }
  return key
}

// ---------------------------------------------------------------- local disk

export class LocalFileStore implements FileStore {
  readonly kind = 'local'
  readonly root: string

  constructor(root: string) {
    this.root = path.resolve(root)
  }

  /** The file's path, checked to stay inside the root even if the key rules were ever loosened. */
  pathOf(key: string) {
    assertValidKey(key)
    const full = path.resolve(this.root, key)
    const rel = path.relative(this.root, full)
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw badRequest('key', 'resolves outside the file store')
    return full
  }

  async put(key: string, body: FileBody) {
    const file = this.pathOf(key)
    await fsp.mkdir(path.dirname(file), { recursive: true })
    // Write beside the target and rename: a reader never sees half a file, a failed upload leaves nothing.
    const tmp = `${file}.${crypto.randomBytes(6).toString('hex')}.tmp`
    let size = 0
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length
        done(null, chunk)
      },
    })
    try {
      await pipeline(toNodeReadable(body), count, fs.createWriteStream(tmp, { flags: 'wx' }))
      await fsp.rename(tmp, file)
    } catch (err) {
      await fsp.rm(tmp, { force: true })
      throw err
    }
    return { size }
  }

  async get(key: string) {
    return Readable.toWeb(await this.open(key)) as unknown as ReadableStream<Uint8Array>
  }

  async read(key: string, opts: { reuse?: boolean } = {}): Promise<AsyncIterable<Uint8Array>> {
    if (!opts.reuse) return this.open(key, 1024 * 1024)
    const handle = await this.handle(key)
    const buf = Buffer.allocUnsafeSlow(1024 * 1024)
    let closed = false
    const close = async () => {
      if (closed) return
      closed = true
      await handle.close()
    }
    // An iterator object rather than a generator: return() closes the file even before the first read.
    const it: AsyncIterableIterator<Uint8Array> = {
      [Symbol.asyncIterator]: () => it,
      async next() {
        if (closed) return { done: true, value: undefined }
        try {
          const { bytesRead } = await handle.read(buf, 0, buf.length, null)
          if (bytesRead) return { done: false, value: buf.subarray(0, bytesRead) }
        } catch (e) {
          await close()
          throw e
        }
        await close()
        return { done: true, value: undefined }
      },
      async return() {
        await close()
        return { done: true, value: undefined }
      },
    }
    return it
  }

  private async open(key: string, highWaterMark?: number) {
    return (await this.handle(key)).createReadStream({ highWaterMark })
  }

  private async handle(key: string) {
    const file = this.pathOf(key)
    const handle = await fsp.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') throw notFound('File', key)
      throw err
    })
    if ((await handle.stat()).isDirectory()) {
      await handle.close()
      throw notFound('File', key)
    }
    return handle
  }

  async delete(key: string) {
    await fsp.rm(this.pathOf(key), { force: true })
  }

  async exists(key: string) {
    const stat = await fsp.stat(this.pathOf(key)).catch(() => null)
    return !!stat?.isFile()
  }
}

function toNodeReadable(body: FileBody): Readable {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)])
  if (typeof (body as ReadableStream).getReader === 'function') return Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>)
  return Readable.from(body as AsyncIterable<Uint8Array>)
}

// ---------------------------------------------------------------- Supabase Storage

export class SupabaseFileStore implements FileStore {
  readonly kind = 'supabase'
  private bucket

  constructor(url: string, serviceRoleKey: string, bucket: string) {
    // Loaded only when Supabase is configured (supabase-js also warns on Node 20 as it loads).
    const { createClient } = createRequire(import.meta.url)('@supabase/supabase-js') as typeof import('@supabase/supabase-js')
    const client = createClient(url, serviceRoleKey, { auth: { persistSession: false, autoRefreshToken: false } })
    this.bucket = client.storage.from(bucket)
  }

  async put(key: string, body: FileBody) {
    assertValidKey(key)
    let size = 0
    let upload: Buffer | ReadableStream<Uint8Array>
    if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
      upload = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      size = upload.length
    } else {
      // Streamed to the storage API (storage-js sets duplex: 'half'), counting bytes on the way.
      const source = typeof (body as ReadableStream).getReader === 'function' ? (body as ReadableStream<Uint8Array>) : (Readable.toWeb(Readable.from(body as AsyncIterable<Uint8Array>)) as unknown as ReadableStream<Uint8Array>)
      upload = source.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            size += chunk.byteLength
            controller.enqueue(chunk)
          },
        }),
      )
    }
    const { error } = await this.bucket.upload(key, upload, { upsert: true, contentType: 'application/octet-stream' })
    if (error) throw new Error(`Supabase Storage upload of '${key}' failed: ${error.message}`)
    return { size }
  }

  async get(key: string) {
    assertValidKey(key)
    const { data, error } = await this.bucket.download(key)
    if (error || !data) {
      if (isNotFound(error)) throw notFound('File', key)
      throw new Error(`Supabase Storage download of '${key}' failed: ${error?.message}`)
    }
    return data.stream() as ReadableStream<Uint8Array>
  }

  async read(key: string) {
    return (await this.get(key)) as unknown as AsyncIterable<Uint8Array>
  }

  async delete(key: string) {
    assertValidKey(key)
    const { error } = await this.bucket.remove([key])
    if (error && !isNotFound(error)) throw new Error(`Supabase Storage delete of '${key}' failed: ${error.message}`)
  }

  async exists(key: string) {
    assertValidKey(key)
    const { data, error } = await this.bucket.exists(key)
    if (error && !isNotFound(error)) throw new Error(`Supabase Storage lookup of '${key}' failed: ${error.message}`)
    return !!data
  }
}

function isNotFound(error: unknown) {
  const e = error as { status?: number; statusCode?: string | number; message?: string } | null
  return !!e && (e.status === 404 || e.status === 400 || String(e.statusCode) === '404' || /not found/i.test(e.message ?? ''))
}

// ---------------------------------------------------------------- the configured store

let configured: FileStore | undefined

/** Supabase Storage when SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY are set, else local disk under DATA_DIR/files. */
export function getFileStore(): FileStore {
  if (configured) return configured
  const env = getEnv()
  configured =
    env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY
      ? new SupabaseFileStore(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, env.SUPABASE_STORAGE_BUCKET)
      : new LocalFileStore(path.join(env.DATA_DIR, 'files'))
  return configured
}

/** Uses this store instead of the configured one (tests: a stand-in store that fails on purpose). */
export function installFileStore(store: FileStore) {
  configured = store
}

/** Forgets the configured store (tests that change DATA_DIR). */
export function resetFileStore() {
  configured = undefined
}
