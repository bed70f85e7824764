import { getFileStore } from './file-store.server.ts'
import { CsvError, type CsvLimits } from './csv.server.ts'
import { encodeCsv, type EncodedChunk, type EncodedFile } from './file-encoder.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'

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
}

export type EncodeStoredResult = { ok: true; file: EncodedFile } | { ok: false; rule: string; message: string; details: Record<string, unknown> }

/** A chunk as posted: its KiB, which the receiver adds to flow[0] once loaded. */
export type PostedChunk = EncodedChunk & { kib: number }

export async function encodeStoredFile(input: EncodeStoredInput, ctx: { progress(value: unknown): void }): Promise<EncodeStoredResult> {
  const flow = new Int32Array(input.flow)
  let sentKiB = 0
  async function* bytes(): AsyncGenerator<Uint8Array> {
    yield* (await getFileStore().get(input.key)) as unknown as AsyncIterable<Uint8Array>
  }
  try {
    const it = encodeCsv(bytes(), input)
    for (;;) {
      const n = await it.next()
      if (n.done) return { ok: true, file: n.value }
      const kib = Math.ceil(n.value.bytes / 1024)
      // Wait while the loaded count lags too far behind (the receiver notifies on every load).
      for (let done = Atomics.load(flow, 0); sentKiB - done > input.aheadKiB; done = Atomics.load(flow, 0)) Atomics.wait(flow, 0, done, 1000)
      sentKiB += kib
      ctx.progress({ ...n.value, kib } satisfies PostedChunk)
    }
  } catch (e) {
    if (e instanceof CsvError) return { ok: false, rule: e.rule, message: e.message, details: e.details }
    throw e
  }
}
