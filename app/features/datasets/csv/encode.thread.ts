import { getFileStore } from '#app/storage/storage.server.ts'
import { CsvError, type CsvLimits } from './csv.server.ts'
import { encodeCsv, type EncodedChunk, type EncodedFile } from './file-encoder.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { SlotRing, type RingSpec } from '../load/slot-ring.server.ts'
import { channelReader, type ChannelSpec } from '../receive/byte-channel.server.ts'

/**
 * Runs on a pool thread (runInThread): reads a stored upload, parses and validates it and posts the COPY
 * chunks back as progress, so the request's thread only feeds Postgres. Flow control: `flow[0]` counts the
 * KiB the request's thread has loaded; this thread never runs more than `aheadKiB` ahead of it (memory stays
 * flat however slow Postgres is).
 */

export interface EncodeStoredInput {
  key: string
  columns: ColumnSpec[]
  fileId: number
  tenantId: string
  limits?: Partial<CsvLimits>
  flushBytes: number
  flow: SharedArrayBuffer
  aheadKiB: number
  /** Shared slots for bronze and silver (see ../load/slot-ring.server.ts); without it each chunk's buffers are moved. */
  ring?: RingSpec
  /** The file's bytes as they arrive (../receive/byte-channel.server.ts), instead of reading `key` from the store. */
  live?: ChannelSpec
}

export type EncodeStoredResult = { ok: true; file: EncodedFile } | { ok: false; rule: string; message: string; details: Record<string, unknown> }

/**
 * A chunk as posted: its KiB, which the receiver adds to flow[0] once loaded. A part in a shared slot is posted
 * as null with its length (`bronzeBytes`, `silverBytes`); the receiver reads it from the slot and releases it.
 */
export type PostedChunk = EncodedChunk & { kib: number; bronzeBytes: number; silverBytes: number }

export async function encodeStoredFile(input: EncodeStoredInput, ctx: { progress(value: unknown, transfer?: ArrayBuffer[]): void }): Promise<EncodeStoredResult> {
  const flow = new Int32Array(input.flow)
  let sentKiB = 0
  async function* bytes(): AsyncGenerator<Uint8Array> {
    // The reader copies each chunk before it asks for the next: one read buffer (or the channel's) serves the file.
    yield* input.live ? channelReader(input.live) : await getFileStore().read(input.key, { reuse: true })
  }
  try {
    const it = encodeCsv(bytes(), { ...input, lender: input.ring && new SlotRing(input.ring) })
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    let waited = 0
    for (;;) {
      const n = await it.next()
      if (n.done) {
        // HD_UPLOAD_TIMING=1 (bench/datasets.ts): how long this thread took, how much of it waiting for Postgres.
        if (process.env.HD_UPLOAD_TIMING) {
          const cpu = process.cpuUsage(cpu0)
          console.log(`[upload thread] ${Math.round(performance.now() - t0)} ms, ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU, waited ${Math.round(waited)} ms`)
        }
        return { ok: true, file: n.value }
      }
      const w0 = performance.now()
      const kib = Math.ceil(n.value.bytes / 1024)
      // Wait while the loaded count lags too far behind (the receiver notifies on every load).
      for (let done = Atomics.load(flow, 0); sentKiB - done > input.aheadKiB; done = Atomics.load(flow, 0)) Atomics.wait(flow, 0, done, 1000)
      waited += performance.now() - w0
      sentKiB += kib
      // Parts in shared slots go as their length; the others own their memory (ByteOut): moved, not copied.
      const c = n.value
      const posted: PostedChunk = {
        ...c,
        kib,
        bronze: c.bronzeSlot >= 0 ? null : c.bronze,
        silver: c.silverSlot >= 0 ? null : c.silver,
        bronzeBytes: c.bronze?.byteLength ?? 0,
        silverBytes: c.silver?.byteLength ?? 0,
      }
      const moved = [posted.bronze, posted.silver].filter((b) => b !== null).map((b) => b.buffer as ArrayBuffer)
      ctx.progress(posted, moved)
    }
  } catch (e) {
    if (e instanceof CsvError) return { ok: false, rule: e.rule, message: e.message, details: e.details }
    throw e
  }
}
