/**
 * The one place datasets reach the file store. Until the platform's `app/storage/storage.server.ts`
 * lands, a local-disk store with the same interface (keys under DATA_DIR/files).
 */
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { getEnv } from '#app/env.server.ts'

export interface FileStore {
  put(key: string, body: ReadableStream | Buffer | AsyncIterable<Uint8Array>): Promise<{ size: number }>
  get(key: string): Promise<ReadableStream>
  delete(key: string): Promise<void>
  exists(key: string): Promise<boolean>
}

const KEY_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/

function localStore(root: string): FileStore {
  const resolve = (key: string) => {
    if (!KEY_RE.test(key) || key.split('/').some((s) => s === '..' || s === '.')) throw new Error(`bad storage key: ${key}`)
    return path.join(root, key)
  }
  return {
    async put(key, body) {
      const file = resolve(key)
      await fs.promises.mkdir(path.dirname(file), { recursive: true })
      let size = 0
      const src = Buffer.isBuffer(body) ? Readable.from([body]) : body instanceof ReadableStream ? Readable.fromWeb(body as any) : Readable.from(body)
      src.on('data', (c: Buffer) => (size += c.length))
      try {
        await pipeline(src, fs.createWriteStream(file))
      } catch (e) {
        await fs.promises.rm(file, { force: true })
        throw e
      }
      return { size }
    },
    async get(key) {
      const file = resolve(key)
      await fs.promises.access(file)
      return Readable.toWeb(fs.createReadStream(file, { highWaterMark: 256 * 1024 })) as ReadableStream
    },
    async delete(key) {
      await fs.promises.rm(resolve(key), { force: true })
    },
    async exists(key) {
      return fs.promises.access(resolve(key)).then(
        () => true,
        () => false,
      )
    },
  }
}

let store: FileStore | undefined
export function getFileStore(): FileStore {
  store ??= localStore(path.resolve(getEnv().DATA_DIR, 'files'))
  return store
}
