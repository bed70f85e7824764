import crypto from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { closeThreadPool, runInThread } from '#app/jobs/thread-pool.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import type { EncodeStoredInput, EncodeStoredResult, PostedChunk } from './encode.thread.ts'
import { bufferBytes, encodeCsv, type EncodedChunk } from './file-encoder.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { SlotRing } from '../load/slot-ring.server.ts'
import { ChannelWriter } from '../receive/byte-channel.server.ts'

const columns: ColumnSpec[] = [
  { column_name: 'id', data_type: 'Integer', default_value: null },
  { column_name: 'name', data_type: 'String', default_value: 'a\tb' },
  { column_name: 'at', data_type: 'DateTime', default_value: null },
]

async function collect(it: AsyncGenerator<EncodedChunk, unknown>) {
  const parts = { bronze: [] as Buffer[], silver: [] as Buffer[], errors: [] as Buffer[] }
  for (;;) {
    const n = await it.next()
    if (n.done) return { data: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Buffer.concat(v)])), result: n.value }
    for (const k of ['bronze', 'silver', 'errors'] as const) if (n.value[k]) parts[k].push(Buffer.from(n.value[k]!))
  }
}

describe('encodeStoredFile on a pool thread', () => {
  const keys: string[] = []
  afterAll(async () => {
    await Promise.all(keys.map((k) => getFileStore().delete(k)))
    await closeThreadPool()
  })
  async function store(text: string) {
    const key = `tenants/test/uploads/encode-${crypto.randomUUID()}.csv`
    keys.push(key)
    await getFileStore().put(key, Buffer.from(text))
    return key
  }

  it('posts the same COPY data and counts as encoding on this thread, within the flow limit', async () => {
    let text = 'id,name,at\n'
    for (let i = 1; i <= 60_000; i++) text += `${i % 97 ? i : 'x'},${i % 13 ? 'n' + i : '"q\tuoted, ""x"""'},${i % 89 ? '2025-01-02T03:04:05Z' : 'soon'}\n`
    const key = await store(text)
    const opts = { columns, fileId: 9, tenantId: 'T', flushBytes: 16 * 1024 }
    async function* src() {
      yield Buffer.from(text)
    }
    const local = await collect(encodeCsv(src(), opts))

    const flow = new SharedArrayBuffer(4)
    const loaded = new Int32Array(flow)
    const chunks: PostedChunk[] = []
    let maxAhead = 0
    let sent = 0
    const r = await runInThread<EncodeStoredResult>(
      '#app/features/datasets/csv/encode.thread.ts',
      'encodeStoredFile',
      { ...opts, key, flow, aheadKiB: 32 } satisfies EncodeStoredInput,
      {
        onProgress: (v) => {
          const c = v as PostedChunk
          chunks.push(c)
          sent += c.kib
          maxAhead = Math.max(maxAhead, sent - Atomics.load(loaded, 0))
          // Acknowledge later, as a slow database would.
          setTimeout(() => {
            Atomics.add(loaded, 0, c.kib)
            Atomics.notify(loaded, 0)
          }, 5)
        },
      },
    )
    async function* posted() {
      for (const c of chunks) yield c
      return r.ok ? r.file : null
    }
    const remote = await collect(posted() as AsyncGenerator<EncodedChunk, unknown>)
    expect(r.ok).toBe(true)
    // Buffer.equals: toEqual compares megabytes element by element (slowly).
    for (const k of ['bronze', 'silver', 'errors']) expect(remote.data[k].equals(local.data[k]), k).toBe(true)
    expect(local.data.silver.length).toBeGreaterThan(1024 * 1024)
    expect(remote.result).toEqual(local.result)
    expect(chunks.length).toBeGreaterThan(3)
    // The thread waits while more than aheadKiB are unacknowledged, then sends one more chunk.
    expect(maxAhead).toBeLessThanOrEqual(32 + Math.max(...chunks.map((c) => c.kib)))
    expect(maxAhead).toBeLessThan(sent / 2)
  })

  it('with shared slots: the same bytes, slots reused only once given back, none kept at the end', async () => {
    let text = 'id,name,at\n'
    for (let i = 1; i <= 100_000; i++) text += `${i % 97 ? i : 'x'},${i % 13 ? 'n' + i : '"q\tuoted, ""x"""'},${i % 89 ? '2025-01-02T03:04:05Z' : 'soon'}\n`
    const key = await store(text)
    // A chunk is flushed after the batch that reaches flushBytes (batches come from 256 KiB reads).
    const flushBytes = 512 * 1024
    const opts = { columns, fileId: 9, tenantId: 'T', flushBytes }
    async function* src() {
      yield Buffer.from(text)
    }
    const local = await collect(encodeCsv(src(), opts))

    // Fewer slots than the flow window needs: some chunks must come in buffers of their own.
    const ring = SlotRing.create(3, bufferBytes(flushBytes))
    const flow = new SharedArrayBuffer(4)
    const loaded = new Int32Array(flow)
    const got = { bronze: [] as Buffer[], silver: [] as Buffer[], errors: [] as Buffer[] }
    let inSlots = 0
    let own = 0
    const acks: Promise<void>[] = []
    const r = await runInThread<EncodeStoredResult>(
      '#app/features/datasets/csv/encode.thread.ts',
      'encodeStoredFile',
      { ...opts, key, flow, aheadKiB: 2048, ring: ring.spec } satisfies EncodeStoredInput,
      {
        onProgress: (v) => {
          const c = v as PostedChunk
          const part = (slot: number, bytes: number, owned: Uint8Array | null) => {
            if (slot >= 0) inSlots++
            else if (owned) own++
            return slot >= 0 ? ring.view(slot, bytes) : owned
          }
          const bronze = part(c.bronzeSlot, c.bronzeBytes, c.bronze)
          const silver = part(c.silverSlot, c.silverBytes, c.silver)
          // Read the slots only when giving them back, a few ms later, as a slow database would: had the thread
          // reused a slot before that, the bytes read here would differ from the local encoding.
          acks.push(
            new Promise<void>((resolve) =>
              setTimeout(() => {
                if (bronze) got.bronze.push(Buffer.from(bronze))
                if (silver) got.silver.push(Buffer.from(silver))
                if (c.errors) got.errors.push(Buffer.from(c.errors))
                for (const s of [c.bronzeSlot, c.silverSlot]) if (s >= 0) ring.release(s)
                Atomics.add(loaded, 0, c.kib)
                Atomics.notify(loaded, 0)
                resolve()
              }, 20),
            ),
          )
        },
      },
    )
    await Promise.all(acks)
    expect(r.ok).toBe(true)
    for (const k of ['bronze', 'silver', 'errors'] as const) expect(Buffer.concat(got[k]).equals(local.data[k]), k).toBe(true)
    expect(inSlots).toBeGreaterThan(4)
    expect(own).toBeGreaterThan(0)
    expect(ring.lent()).toBe(0)
  })

  it('returns a CSV problem as data (rule and details), not as a thrown error', async () => {
    const key = await store('id,name,at\n1,a,2025-01-01\n2,b\n')
    const r = await runInThread<EncodeStoredResult>('#app/features/datasets/csv/encode.thread.ts', 'encodeStoredFile', {
      key,
      columns,
      fileId: 1,
      tenantId: 'T',
      flushBytes: 1024,
      flow: new SharedArrayBuffer(4),
      aheadKiB: 1024,
    } satisfies EncodeStoredInput)
    expect(r).toMatchObject({ ok: false, rule: 'ragged_row', details: { row: 2, fields: 2, expected: 3 } })
  })

  describe('reading the file as it arrives (ByteChannel)', () => {
    const text = (() => {
      let t = 'id,name,at\n'
      for (let i = 1; i <= 40_000; i++) t += `${i % 97 ? i : 'x'},${i % 13 ? 'n' + i : '"q\tuoted, ""x"""'},${i % 89 ? '2025-01-02T03:04:05Z' : 'soon'}\n`
      return Buffer.from(t)
    })()
    const opts = { columns, fileId: 9, tenantId: 'T', flushBytes: 64 * 1024 }
    /** Runs the thread on the channel, acknowledging every chunk at once; collects what it posts. */
    function run(channel: ChannelWriter) {
      const got = { bronze: [] as Buffer[], silver: [] as Buffer[], errors: [] as Buffer[] }
      const flow = new SharedArrayBuffer(4)
      const loaded = new Int32Array(flow)
      const task = runInThread<EncodeStoredResult>(
        '#app/features/datasets/csv/encode.thread.ts',
        'encodeStoredFile',
        { ...opts, key: 'tenants/test/uploads/not-stored.csv', flow, aheadKiB: 4096, live: channel.spec } satisfies EncodeStoredInput,
        {
          onProgress: (v) => {
            const c = v as PostedChunk
            for (const k of ['bronze', 'silver', 'errors'] as const) if (c[k]) got[k].push(Buffer.from(c[k]!))
            Atomics.add(loaded, 0, c.kib)
            Atomics.notify(loaded, 0)
          },
        },
      )
      return { task, got }
    }
    /** Writes `bytes` in uneven pieces (1 byte to 40 KB), pausing now and then, as a network would deliver them. */
    async function send(channel: ChannelWriter, bytes: Buffer, seed = 7) {
      let x = seed
      const rand = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648
      for (let i = 0; i < bytes.length; ) {
        const n = Math.min(bytes.length - i, 1 + Math.floor(rand() ** 3 * 40_000))
        if (!(await channel.write(bytes.subarray(i, i + n)))) return false
        i += n
        if (rand() < 0.05) await new Promise((r) => setTimeout(r, 1))
      }
      return true
    }

    it('gives the same COPY data as reading the stored file, through a channel far smaller than the file', async () => {
      async function* src() {
        yield text
      }
      const local = await collect(encodeCsv(src(), opts))
      // 16 KiB: the writer wraps around ~80 times and often waits for the reader.
      const channel = new ChannelWriter(16 * 1024)
      const { task, got } = run(channel)
      expect(await send(channel, text)).toBe(true)
      channel.end()
      const r = await task
      expect(r.ok).toBe(true)
      for (const k of ['bronze', 'silver', 'errors'] as const) expect(Buffer.concat(got[k]).equals(local.data[k]), k).toBe(true)
      expect(r.ok && r.file).toEqual(local.result)
    })

    it('never takes a cut-off file for a whole one: a writer that fails makes the thread fail', async () => {
      const channel = new ChannelWriter(16 * 1024)
      const { task } = run(channel)
      // Cut at a line end: without the failure the first half would be a valid, shorter file.
      const half = text.subarray(0, text.indexOf('\n', text.length >> 1) + 1)
      await send(channel, half)
      channel.fail()
      await expect(task).rejects.toThrow(/stopped before the file was complete/)
    })

    it('lets the writer go on when the reader stops early (a CSV error): writes are dropped, nothing waits', async () => {
      const channel = new ChannelWriter(16 * 1024)
      const { task } = run(channel)
      const bad = Buffer.concat([Buffer.from('id,name,at\n1,a,2025-01-01\n2,b\n'), text.subarray(text.indexOf('\n') + 1)])
      const writing = send(channel, bad)
      expect(await task).toMatchObject({ ok: false, rule: 'ragged_row', details: { row: 2 } })
      // The file is 60× the channel: the writer can only finish because the reader's give-up released it.
      expect(await writing).toBe(false)
      expect(channel.cancelled).toBe(true)
    })
  })
})
