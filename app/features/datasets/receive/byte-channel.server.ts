/**
 * A one-way byte pipe from the request's thread to a pool thread, in one SharedArrayBuffer: an upload's body as it
 * arrives, so the pool thread parses and validates a file while it is still being received instead of after it
 * has been stored whole. The file still goes to the file store as before; this is a second copy of its bytes on the
 * way in, bounded by the buffer's size (memory stays flat: the writer waits when the reader falls behind).
 *
 * Two counters (bytes written, bytes read) and a state, all Int32: the counters wrap at 2^32 and the buffer's size
 * is a power of two below 2^31, so `(written - read) | 0` is always the bytes waiting, and `counter & (size - 1)`
 * their position. The writer (request's thread) never blocks: it awaits Atomics.waitAsync when the buffer is full.
 * The reader (pool thread) blocks in Atomics.wait; it has nothing else to do.
 */

export interface ChannelSpec {
  data: SharedArrayBuffer
  ctrl: SharedArrayBuffer
}

const WRITTEN = 0
const READ = 1
const STATE = 2
/** Bytes may still come. */
const OPEN = 0
/** The writer is done: the reader ends once it has read everything. */
const ENDED = 1
/** The writer failed (the body could not be read, or the file was too large): the reader throws. */
const FAILED = 2
/** The reader gave up: the writer drops what it is given. */
const CANCELLED = 3

/** How long a side waits before it looks again (a missed notify costs at most this). */
const WAIT_MS = 200

/** Atomics.waitAsync (Node 16+; TypeScript declares it from lib es2024 on). */
type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> }
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

export const DEFAULT_CHANNEL_BYTES = 4 * 1024 * 1024

/** The reader's side saw the writer fail. */
export class ChannelFailed extends Error {
  constructor() {
    super('the upload stopped before the file was complete')
  }
}

export class ChannelWriter {
  readonly spec: ChannelSpec
  private readonly data: Uint8Array
  private readonly ctrl: Int32Array
  private readonly mask: number

  constructor(bytes = DEFAULT_CHANNEL_BYTES) {
    if (bytes < 1024 || bytes > 1 << 30 || (bytes & (bytes - 1)) !== 0) throw new Error(`channel size must be a power of two, got ${bytes}`)
    this.spec = { data: new SharedArrayBuffer(bytes), ctrl: new SharedArrayBuffer(12) }
    this.data = new Uint8Array(this.spec.data)
    this.ctrl = new Int32Array(this.spec.ctrl)
    this.mask = bytes - 1
  }

  /** The reader gave up (it read what it needed, or it failed): what is written from now on is dropped. */
  get cancelled(): boolean {
    return Atomics.load(this.ctrl, STATE) === CANCELLED
  }

  /** Copies the chunk in, waiting for room; false when the reader has given up (the rest is dropped). */
  async write(chunk: Uint8Array): Promise<boolean> {
    const size = this.mask + 1
    let off = 0
    while (off < chunk.length) {
      if (Atomics.load(this.ctrl, STATE) !== OPEN) return false
      const w = this.ctrl[WRITTEN]
      const r = Atomics.load(this.ctrl, READ)
      const free = size - ((w - r) | 0)
      if (free === 0) {
        const wait = waitAsync(this.ctrl, READ, r, WAIT_MS)
        if (wait.async) await wait.value
        continue
      }
      const pos = w & this.mask
      const n = Math.min(free, chunk.length - off, size - pos)
      this.data.set(chunk.subarray(off, off + n), pos)
      Atomics.store(this.ctrl, WRITTEN, (w + n) | 0)
      Atomics.notify(this.ctrl, WRITTEN)
      off += n
    }
    return true
  }

  /** No more bytes: the reader ends after the last one. */
  end() {
    this.settle(ENDED)
  }

  /** The bytes stop here and are not the whole file: the reader throws ChannelFailed. */
  fail() {
    this.settle(FAILED)
  }

  /** The reader's side is over (its task settled): a writer still writing stops waiting for it. */
  cancel() {
    this.settle(CANCELLED)
  }

  private settle(state: number) {
    Atomics.compareExchange(this.ctrl, STATE, OPEN, state)
    Atomics.notify(this.ctrl, WRITTEN)
    Atomics.notify(this.ctrl, READ)
  }
}

/**
 * The reader's side, as Node chunks that point into the shared buffer: a chunk is valid until the next one is
 * asked for (then its bytes are given back to the writer), so the consumer copies it first, as the CSV reader
 * does. return() gives up: the writer drops the rest.
 */
export function channelReader(spec: ChannelSpec): AsyncIterableIterator<Uint8Array> {
  const ctrl = new Int32Array(spec.ctrl)
  const data = Buffer.from(spec.data)
  const mask = data.length - 1
  let read = Atomics.load(ctrl, READ)
  let held = 0
  let done = false
  const giveBack = () => {
    if (!held) return
    read = (read + held) | 0
    held = 0
    Atomics.store(ctrl, READ, read)
    Atomics.notify(ctrl, READ)
  }
  const it: AsyncIterableIterator<Uint8Array> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      giveBack()
      while (!done) {
        const w = Atomics.load(ctrl, WRITTEN)
        const waiting = (w - read) | 0
        if (waiting > 0) {
          const pos = read & mask
          held = Math.min(waiting, data.length - pos)
          return { done: false, value: data.subarray(pos, pos + held) }
        }
        const state = Atomics.load(ctrl, STATE)
        // The state is read after the counter: bytes written before the writer ended are never missed.
        if (state === ENDED && Atomics.load(ctrl, WRITTEN) === read) break
        if (state === OPEN) {
          Atomics.wait(ctrl, WRITTEN, w, WAIT_MS)
          continue
        }
        if (state !== ENDED) {
          // Failed, or given up by the writer's side: these bytes are not the whole file.
          done = true
          throw new ChannelFailed()
        }
      }
      done = true
      return { done: true, value: undefined }
    },
    async return() {
      giveBack()
      done = true
      Atomics.compareExchange(ctrl, STATE, OPEN, CANCELLED)
      Atomics.notify(ctrl, READ)
      return { done: true, value: undefined }
    },
  }
  return it
}
