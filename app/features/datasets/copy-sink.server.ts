import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { EncodedChunk } from './file-encoder.ts'
import { CopyBuffer, CopyQueue, type CopyStream, type LoadTx } from './load-tx.server.ts'

/**
 * Where a file's COPY chunks go. Every COPY costs a round trip plus, on a Nagle socket, a delayed-ACK wait
 * (~40 ms) at its end, so on Postgres the silver rows stream through ONE COPY while the file is parsed, and the
 * bronze rows and error lines are spooled to a temp file and loaded by one COPY each at the end (memory stays
 * flat). PGlite, which only loads whole blobs, gets a queue of COPYs of a few MiB each.
 */
export interface CopySink {
  /** Takes a chunk; resolves when the caller may send the next (backpressure). */
  load(c: EncodedChunk): Promise<void>
  /** Calls fn once every chunk loaded so far is out of memory (written or failed). */
  absorbed(fn: () => void): void
  readonly failed: boolean
  /** The first COPY failure, if any. */
  readonly failure: unknown
  /** Completes every COPY; throws the first failure. */
  finish(): Promise<void>
  /** After a failure: ends open COPYs and removes temp files (never throws). */
  close(): Promise<void>
}

export interface Target {
  bronze: { table: string; columns: string[] }
  silver: { table: string; columns: string[] }
  errors: { table: string; columns: string[] }
}

const asBuffer = (u: Uint8Array) => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength))

export async function openSink(tx: LoadTx, t: Target, maxPendingBytes: number): Promise<CopySink> {
  return tx.copyStream ? StreamSink.open(tx, t) : new QueueSink(tx, t, maxPendingBytes)
}

class QueueSink implements CopySink {
  private queue: CopyQueue
  private errors: CopyBuffer
  constructor(
    tx: LoadTx,
    private t: Target,
    maxPendingBytes: number,
  ) {
    this.queue = new CopyQueue(tx, maxPendingBytes)
    this.errors = new CopyBuffer(this.queue, t.errors.table, t.errors.columns)
  }
  get failed() {
    return this.queue.failed
  }
  get failure() {
    return this.queue.failure
  }
  load(c: EncodedChunk) {
    if (c.bronze) this.queue.enqueue(this.t.bronze.table, this.t.bronze.columns, [asBuffer(c.bronze)], c.bronze.byteLength)
    if (c.silver) this.queue.enqueue(this.t.silver.table, this.t.silver.columns, [asBuffer(c.silver)], c.silver.byteLength)
    // Error lines gather into larger COPYs.
    const e = c.errors ? this.errors.add(c.errors) : Promise.resolve()
    return e.then(() => this.queue.wait())
  }
  absorbed(fn: () => void) {
    this.queue.after(fn)
  }
  async finish() {
    await this.errors.flush()
    await this.queue.drain()
  }
  async close() {
    await this.queue.drain().catch(() => {})
  }
}

class Spool {
  private fh: fs.promises.FileHandle | null = null
  size = 0
  constructor(readonly file: string) {}
  async write(b: Uint8Array) {
    this.fh ??= await fs.promises.open(this.file, 'w', 0o600)
    await this.fh.write(b)
    this.size += b.byteLength
  }
  async copyTo(s: CopyStream) {
    await this.fh?.close()
    this.fh = null
    if (!this.size) return
    for await (const chunk of fs.createReadStream(this.file, { highWaterMark: 1024 * 1024 })) await s.write(chunk as Buffer)
  }
  async remove() {
    await this.fh?.close().catch(() => {})
    this.fh = null
    await fs.promises.rm(this.file, { force: true })
  }
}

class StreamSink implements CopySink {
  private chain: Promise<void> = Promise.resolve()
  failure: unknown = null
  private open: CopyStream | null = null
  private bronze: Spool
  private errors: Spool
  private constructor(
    private tx: LoadTx,
    private t: Target,
    private silver: CopyStream,
  ) {
    this.open = silver
    const base = path.join(os.tmpdir(), `hd-upload-${crypto.randomUUID()}`)
    this.bronze = new Spool(`${base}.bronze`)
    this.errors = new Spool(`${base}.errors`)
  }
  static async open(tx: LoadTx, t: Target) {
    return new StreamSink(tx, t, await tx.copyStream!(t.silver.table, t.silver.columns))
  }
  get failed() {
    return this.failure !== null
  }
  load(c: EncodedChunk) {
    this.chain = this.chain.then(async () => {
      if (this.failure) return
      try {
        if (c.silver) await this.silver.write(asBuffer(c.silver))
        if (c.bronze) await this.bronze.write(c.bronze)
        if (c.errors) await this.errors.write(c.errors)
      } catch (e) {
        this.failure ??= e
      }
    })
    return this.chain.then(() => {
      if (this.failure) throw this.failure
    })
  }
  absorbed(fn: () => void) {
    this.chain = this.chain.then(fn)
  }
  async finish() {
    await this.chain
    if (this.failure) throw this.failure
    try {
      await this.silver.end()
      this.open = null
      for (const [spool, dest] of [
        [this.bronze, this.t.bronze],
        [this.errors, this.t.errors],
      ] as const) {
        if (!spool.size) continue
        const s = (this.open = await this.tx.copyStream!(dest.table, dest.columns))
        await spool.copyTo(s)
        await s.end()
        this.open = null
      }
    } finally {
      await this.bronze.remove()
      await this.errors.remove()
    }
  }
  async close() {
    this.failure ??= new Error('upload failed')
    await this.chain.catch(() => {})
    this.open?.abort()
    this.open = null
    await this.bronze.remove().catch(() => {})
    await this.errors.remove().catch(() => {})
  }
}
