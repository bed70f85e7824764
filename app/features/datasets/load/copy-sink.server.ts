import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ChunkLayout, EncodedChunk } from '../csv/file-encoder.server.ts'
import { COPY_BINARY, copyCsv, CopyBuffer, CopyQueue, ident, type CopyFormat, type CopyStream, type LoadTx } from './load-tx.server.ts'

/**
 * Where a file's COPY chunks go. Every COPY costs a round trip plus, on a Nagle socket, a delayed-ACK wait
 * (~40 ms) at its end, so on Postgres the silver rows stream through ONE COPY while the file is parsed, and the
 * bronze rows and error lines are spooled to a temp file and loaded by one COPY each at the end (memory stays
 * flat). PGlite, which only loads whole blobs, gets a queue of COPYs of a few MiB each.
 */
export interface CopySink {
  /** True when silver streams through one open COPY (Postgres): chunks are small and may sit in shared slots. */
  readonly streaming: boolean
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
  /** `columns` are the leading ones; the file's columns follow as the first chunk's layout says. */
  bronze: { table: string; columns: string[] }
  /** Binary COPY. */
  silver: { table: string; columns: string[] }
  /** COPY text. */
  errors: { table: string; columns: string[] }
}

/** The bronze COPY (columns and CSV options) for a file's layout. */
function bronzeCopy(t: Target, layout: ChunkLayout): { columns: string[]; format: CopyFormat } {
  const names = layout.names.map(ident)
  return { columns: [...t.bronze.columns, ...names], format: copyCsv(layout.delimiter, names) }
}

const asBuffer = (u: Uint8Array) => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength))

/** `bronzeTx`: a second transaction (its own connection) that takes the bronze COPY while `tx` takes silver's. */
export async function openSink(tx: LoadTx, t: Target, maxPendingBytes: number, bronzeTx?: LoadTx): Promise<CopySink> {
  return tx.streamCopy ? StreamSink.open(tx, t, bronzeTx?.streamCopy ? bronzeTx : undefined) : new QueueSink(tx, t, maxPendingBytes)
}

class QueueSink implements CopySink {
  readonly streaming = false
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
  private bronze: { columns: string[]; format: CopyFormat } | null = null
  load(c: EncodedChunk) {
    if (c.layout) this.bronze = bronzeCopy(this.t, c.layout)
    if (c.bronze) this.queue.enqueue(this.t.bronze.table, this.bronze!.columns, [asBuffer(c.bronze)], c.bronze.byteLength, this.bronze!.format)
    if (c.silver) this.queue.enqueue(this.t.silver.table, this.t.silver.columns, [asBuffer(c.silver)], c.silver.byteLength, COPY_BINARY)
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
  readonly streaming = true
  private chain: Promise<void> = Promise.resolve()
  failure: unknown = null
  private open: CopyStream | null = null
  private bronze: Spool
  private errors: Spool
  /** The bronze COPY on the second transaction, opened with the first chunk (which carries the layout). */
  private bronzeStream: CopyStream | null = null
  private constructor(
    private tx: LoadTx,
    private t: Target,
    private silver: CopyStream,
    private bronzeTx?: LoadTx,
  ) {
    this.open = silver
    const base = path.join(os.tmpdir(), `hd-upload-${crypto.randomUUID()}`)
    this.bronze = new Spool(`${base}.bronze`)
    this.errors = new Spool(`${base}.errors`)
  }
  static async open(tx: LoadTx, t: Target, bronzeTx?: LoadTx) {
    return new StreamSink(tx, t, await tx.streamCopy!(t.silver.table, t.silver.columns, COPY_BINARY), bronzeTx)
  }
  private layout: ChunkLayout | null = null
  get failed() {
    return this.failure !== null
  }
  load(c: EncodedChunk) {
    if (c.layout) this.layout = c.layout
    this.chain = this.chain.then(async () => {
      if (this.failure) return
      try {
        if (c.silver) await this.silver.write(asBuffer(c.silver))
        if (this.bronzeTx && this.layout && !this.bronzeStream) {
          const { columns, format } = bronzeCopy(this.t, this.layout)
          this.bronzeStream = await this.bronzeTx.streamCopy!(this.t.bronze.table, columns, format)
        }
        if (c.bronze) await (this.bronzeStream ?? this.bronze).write(asBuffer(c.bronze))
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
      if (this.bronzeStream) {
        await this.bronzeStream.end()
        this.bronzeStream = null
      }
      const bronze = this.layout && bronzeCopy(this.t, this.layout)
      for (const [spool, table, columns, format] of [
        [this.bronze, this.t.bronze.table, bronze?.columns ?? [], bronze?.format],
        [this.errors, this.t.errors.table, this.t.errors.columns, undefined],
      ] as const) {
        if (!spool.size) continue
        const s = (this.open = await this.tx.streamCopy!(table, columns, format))
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
    this.bronzeStream?.abort()
    this.bronzeStream = null
    await this.bronze.remove().catch(() => {})
    await this.errors.remove().catch(() => {})
  }
}
