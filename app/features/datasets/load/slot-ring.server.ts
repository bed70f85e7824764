/**
 * Fixed-size buffers in one SharedArrayBuffer, lent by the request's thread to the pool thread that encodes an
 * upload. The encoder fills a slot and posts only its number and length; the request's thread writes that view
 * to Postgres and gives the slot back once the write is done.
 *
 * Why: moving each COPY chunk as a new ArrayBuffer made every upload allocate about 2.5× its COPY data as fresh
 * external memory on the request's thread (≈110 MB per 100k rows), and V8 answers external memory with full
 * mark-compacts of that thread's whole heap: about 100 ms of its CPU per 100k rows (measured with --trace-gc and
 * a CPU profile). Reused shared slots allocate nothing per chunk.
 *
 * A slot is 0 (free) or 1 (lent). Only the encoder takes a free slot (compare-and-swap 0 → 1); only the request's
 * thread frees it, after Postgres (or the spool file) has the bytes. When no slot is free the encoder allocates
 * its own buffer, as before: slots are a saving, never a limit.
 */
export interface RingSpec {
  data: SharedArrayBuffer
  state: SharedArrayBuffer
  slotBytes: number
}

export class SlotRing {
  readonly slotBytes: number
  readonly count: number
  private readonly state: Int32Array
  private readonly views: Buffer[]

  constructor(readonly spec: RingSpec) {
    this.slotBytes = spec.slotBytes
    this.state = new Int32Array(spec.state)
    this.count = this.state.length
    this.views = Array.from({ length: this.count }, (_, i) => Buffer.from(spec.data, i * spec.slotBytes, spec.slotBytes))
  }

  static create(count: number, slotBytes: number): SlotRing {
    return new SlotRing({ data: new SharedArrayBuffer(count * slotBytes), state: new SharedArrayBuffer(4 * count), slotBytes })
  }

  /** A free slot of at least `minBytes`, now lent; null when none is free (or the slots are too small). */
  acquire(minBytes: number): { buf: Buffer; slot: number } | null {
    if (minBytes > this.slotBytes) return null
    for (let i = 0; i < this.count; i++) {
      if (Atomics.compareExchange(this.state, i, 0, 1) === 0) return { buf: this.views[i], slot: i }
    }
    return null
  }

  release(slot: number) {
    Atomics.store(this.state, slot, 0)
  }

  /** The first `length` bytes of a slot (no copy). */
  view(slot: number, length: number): Buffer {
    return this.views[slot].subarray(0, length)
  }

  /** Slots lent and not yet given back. */
  lent(): number {
    let n = 0
    for (let i = 0; i < this.count; i++) n += Atomics.load(this.state, i)
    return n
  }
}
