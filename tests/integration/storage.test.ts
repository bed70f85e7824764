import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/env.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { assertValidKey, getFileStore, LocalFileStore, resetFileStore } from '#app/storage/storage.server.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdash-files-'))
const store = new LocalFileStore(root)
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const text = async (s: ReadableStream<Uint8Array>) => Buffer.from(await new Response(s).arrayBuffer()).toString('utf8')

describe('local file store', () => {
  it('puts, gets, checks and deletes a file from a Buffer', async () => {
    expect(await store.put('t1/datasets/a.csv', Buffer.from('x,y\n1,2\n'))).toEqual({ size: 8 })
    expect(await store.exists('t1/datasets/a.csv')).toBe(true)
    expect(fs.readFileSync(path.join(root, 't1/datasets/a.csv'), 'utf8')).toBe('x,y\n1,2\n')
    expect(await text(await store.get('t1/datasets/a.csv'))).toBe('x,y\n1,2\n')
    await store.delete('t1/datasets/a.csv')
    expect(await store.exists('t1/datasets/a.csv')).toBe(false)
    await store.delete('t1/datasets/a.csv') // deleting twice is fine
  })

  it('streams a large body in and out without holding it whole, and replaces an existing file', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(97)
    async function* chunks() {
      for (let i = 0; i < 80; i++) yield chunk // 5 MiB
    }
    expect(await store.put('t1/big.bin', chunks())).toEqual({ size: 80 * 64 * 1024 })
    let size = 0
    for await (const c of (await store.get('t1/big.bin')) as unknown as AsyncIterable<Uint8Array>) size += c.byteLength
    expect(size).toBe(80 * 64 * 1024)

    const web = Readable.toWeb(Readable.from([Buffer.from('new '), Buffer.from('content')])) as unknown as ReadableStream<Uint8Array>
    expect(await store.put('t1/big.bin', web)).toEqual({ size: 11 })
    expect(await text(await store.get('t1/big.bin'))).toBe('new content')
    // No temporary files left beside it.
    expect(fs.readdirSync(path.join(root, 't1')).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('read(): the same bytes in about 1 MiB chunks; with reuse, from one buffer; 404 when missing', async () => {
    const bytes = Buffer.alloc(2.5 * 1024 * 1024)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff
    await store.put('t1/read.bin', bytes)
    for (const reuse of [false, true]) {
      const copies: Buffer[] = []
      const buffers = new Set<ArrayBufferLike>()
      for await (const c of await store.read('t1/read.bin', { reuse })) {
        copies.push(Buffer.from(c))
        buffers.add(c.buffer)
      }
      expect(Buffer.concat(copies).equals(bytes), `reuse ${reuse}`).toBe(true)
      expect(copies.length).toBe(3)
      if (reuse) expect(buffers.size).toBe(1)
    }
    await expect(store.read('t1/nope.bin', { reuse: true })).rejects.toMatchObject({ status: 404 })
    // Given up on before or after its first chunk, it closes the file at once (Linux: count open descriptors).
    if (fs.existsSync('/proc/self/fd')) {
      const open = () => fs.readdirSync('/proc/self/fd').length
      const before = open()
      for (let i = 0; i < 5; i++) {
        const it = (await store.read('t1/read.bin', { reuse: true }))[Symbol.asyncIterator]()
        if (i % 2) await it.next()
        await it.return!()
      }
      expect(open()).toBe(before)
    }
  })

  it('leaves nothing behind when the body stream fails midway', async () => {
    async function* broken() {
      yield new Uint8Array([1, 2, 3])
      throw new Error('client went away')
    }
    await expect(store.put('t2/partial.bin', broken())).rejects.toThrow('client went away')
    expect(await store.exists('t2/partial.bin')).toBe(false)
    expect(fs.readdirSync(path.join(root, 't2'))).toEqual([])
  })

  it('answers 404 for a missing file and for a directory', async () => {
    await expect(store.get('t1/nope.csv')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' })
    await store.put('t3/d/file.txt', Buffer.from('x'))
    await expect(store.get('t3/d')).rejects.toMatchObject({ status: 404 })
    expect(await store.exists('t3/d')).toBe(false)
  })

  it.each([
    ['../outside.txt'],
    ['a/../../outside.txt'],
    ['a/../b.txt'],
    ['/etc/passwd'],
    ['C:\\Windows\\win.ini'],
    ['a\\..\\..\\b'],
    ['.env'],
    ['a/.hidden'],
    ['a//b'],
    ['a/'],
    [''],
    ['a/b\u0000.txt'],
    ['x'.repeat(600)],
  ])('rejects the key %j with a 400 naming the key', async (key) => {
    for (const op of [() => store.put(key, Buffer.from('x')), () => store.get(key), () => store.delete(key), () => store.exists(key)]) {
      const err = await op().then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ApiError)
      expect(err).toMatchObject({ status: 400, details: { field: 'key' } })
    }
    expect(fs.existsSync(path.join(root, '..', 'outside.txt'))).toBe(false)
  })

  it('accepts ordinary keys', () => {
    for (const key of ['a.csv', 'tenant-1/datasets/2025_01_01.v2.csv', 'a..b/c=d+e']) expect(assertValidKey(key)).toBe(key)
  })
})

describe('getFileStore', () => {
  it('is the local store under DATA_DIR/files without Supabase settings', async () => {
    const before = { DATA_DIR: process.env.DATA_DIR, SUPABASE_URL: process.env.SUPABASE_URL }
    process.env.DATA_DIR = root
    delete process.env.SUPABASE_URL
    resetEnvCache()
    resetFileStore()
    try {
      const s = getFileStore()
      expect(s.kind).toBe('local')
      expect((s as LocalFileStore).root).toBe(path.join(root, 'files'))
      await s.put('k/v.txt', Buffer.from('hello'))
      expect(fs.readFileSync(path.join(root, 'files/k/v.txt'), 'utf8')).toBe('hello')
    } finally {
      for (const [k, v] of Object.entries(before)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
      resetEnvCache()
      resetFileStore()
    }
  })
})
