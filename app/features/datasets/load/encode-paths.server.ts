import { dedicatedThreadPool, getThreadPool, type ThreadPool } from '#app/jobs/thread-pool.server.ts'
import { CsvError, type CsvLimits } from '../csv/csv.server.ts'
import type { EncodeStoredInput, EncodeStoredResult, PostedChunk } from '../csv/encode.thread.ts'
import { bufferBytes, encodeCsv, type EncodedFile } from '../csv/file-encoder.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { storedBytes, type ReceivedFile } from '../receive/receive.server.ts'
import type { CopySink } from './copy-sink.server.ts'
import { SlotRing } from './slot-ring.server.ts'

/**
 * Where a file is parsed and validated (the CSV pipeline: csv/file-encoder.server.ts) while the request's thread
 * feeds Postgres through a CopySink. Three paths:
 *   live   — the first file of an upload, read from its ByteChannel as it arrives, on a thread of the live pool;
 *   thread — a stored file of at least HD_UPLOAD_THREAD_MIN_BYTES, on a shared pool thread when one is free;
 *   inline — anything else, on the request's thread.
 * With a streaming sink (Postgres) the pool thread writes bronze and silver into shared slots (slot-ring.server.ts).
 */

/** COPY chunk size: each COPY costs a round trip (and a delayed ACK on the connection), so they are large. */
const COPY_CHUNK_BYTES = 8 * 1024 * 1024
/** Chunk size when the silver COPY streams (no per-chunk COPY). */
const STREAM_CHUNK_BYTES = 1024 * 1024
/** How far parsing may run ahead of Postgres, in bytes of COPY text (memory stays flat). */
export const MAX_AHEAD_BYTES = 32 * 1024 * 1024
/** Files at least this large are parsed and validated on a pool thread while this thread feeds Postgres. */
export const threadMinBytes = () => Number(process.env.HD_UPLOAD_THREAD_MIN_BYTES ?? 4 * 1024 * 1024)

/** Threads of the live pool: at most this many uploads load while they arrive (upload/admission.server.ts). */
export const LIVE_THREADS = 2
/**
 * Live loads wait on their client for as long as it sends: they run on a pool of their own, one thread each, so
 * none takes a thread that jobs and stored uploads queue for, and none waits for a thread.
 */
const livePool = () => dedicatedThreadPool('datasets.upload-live', LIVE_THREADS)

function poolIsFree(): boolean {
  const s = getThreadPool().stats()
  return s.busy < s.size && s.queued === 0
}

/**
 * With a streaming sink, the pool thread runs at most this far ahead of Postgres: the ring's slots cover that window,
 * so chunks allocate nothing. The sockets' own buffers hold several MiB more.
 */
const RING_AHEAD_BYTES = 8 * 1024 * 1024
const RING_SLOTS = 2 * (RING_AHEAD_BYTES / STREAM_CHUNK_BYTES) + 4
/** Rings of finished uploads, for the next ones (a ring is created once, not per upload). */
const idleRings: SlotRing[] = []
const takeRing = () => idleRings.pop() ?? SlotRing.create(RING_SLOTS, bufferBytes(STREAM_CHUNK_BYTES))
function returnRing(ring: SlotRing) {
  // Only a ring whose slots are all back (its thread ended normally) is reused; at most one per thread of both pools.
  if (ring.lent() === 0 && idleRings.length < getThreadPool().size + LIVE_THREADS) idleRings.push(ring)
}

export interface EncodeTarget {
  columns: ColumnSpec[]
  fileId: number
  tenantId: string
  limits?: Partial<CsvLimits>
}

export type EncodePath = 'live' | 'thread' | 'inline'

/**
 * Files loaded per path since the process started, with '+side' when bronze went to the second connection: the
 * path matrix of README.md, counted so tests can show which cell they covered.
 */
export const loadPathCounts: Record<`${EncodePath}${'' | '+side'}`, number> = { inline: 0, thread: 0, live: 0, 'inline+side': 0, 'thread+side': 0, 'live+side': 0 }

/** Marks the phases of one upload (upload/run.server.ts); the load never keeps timings of its own. */
export interface Phases {
  mark(phase: string): void
}

/**
 * Parses, validates and encodes `file` into `sink` on the path that suits it, then completes the sink's COPYs.
 * Returns the path taken and what encodeCsv returns.
 */
export async function encodeInto(sink: CopySink, file: ReceivedFile, t: EncodeTarget, phases?: Phases): Promise<{ path: EncodePath; encoded: EncodedFile }> {
  const input = { key: file.key, ...t, flushBytes: sink.streaming ? STREAM_CHUNK_BYTES : COPY_CHUNK_BYTES }
  let ring: SlotRing | undefined
  let result: { path: EncodePath; encoded: EncodedFile }
  if (file.live) {
    // The thread's reader blocks on the channel; the writer must never wait for a reader that is gone.
    ring = sink.streaming ? takeRing() : undefined
    const encoded = await encodeOnThread({ ...input, live: file.live.channel.spec }, sink, ring, livePool()).finally(() => file.live!.channel.cancel())
    file.size = await file.live.stored
    result = { path: 'live', encoded }
  } else if (file.size >= threadMinBytes() && poolIsFree()) {
    ring = sink.streaming ? takeRing() : undefined
    result = { path: 'thread', encoded: await encodeOnThread(input, sink, ring) }
  } else {
    const it = encodeCsv(storedBytes(file.key), input)
    let n = await it.next()
    while (!n.done) {
      await sink.load(n.value)
      n = await it.next()
    }
    result = { path: 'inline', encoded: n.value }
  }
  phases?.mark(`parsed (${result.path})`)
  await sink.finish()
  // After finish: every slot is back once its bytes are written.
  if (ring) returnRing(ring)
  phases?.mark('copied')
  return result
}

/** Parses and validates on a pool thread; the sink gets each chunk in order. Returns what encodeCsv returns. */
async function encodeOnThread(
  input: Omit<EncodeStoredInput, 'flow' | 'aheadKiB' | 'ring'>,
  sink: CopySink,
  ring: SlotRing | undefined,
  pool: ThreadPool = getThreadPool(),
): Promise<EncodedFile> {
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
    '#app/features/datasets/csv/encode.thread.ts',
    'encodeStoredFile',
    { ...input, flow, aheadKiB: Math.ceil((ring ? RING_AHEAD_BYTES : MAX_AHEAD_BYTES) / 1024), ring: ring?.spec } satisfies EncodeStoredInput,
    { signal: ac.signal, onProgress },
  )
  if (!r.ok) throw new CsvError(r.rule, r.message, r.details)
  return r.file
}
