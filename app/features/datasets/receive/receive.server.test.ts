import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { installFileStore, resetFileStore, type FileStore } from '#app/storage/storage.server.ts'
import { ChannelWriter, channelReader } from './byte-channel.server.ts'
import { receiveUpload } from './receive.server.ts'

/**
 * receiveUpload when the file store or the client fails, with and without a tap (a file read as it arrives). The
 * disk faults are injected through stand-in stores (doubles of our FileStore, named so): a disk that is full or
 * read-only, and a store slow to start writing. What must hold: the receive settles (never hangs), the tap's
 * channel is failed (its reader never takes a cut-off file for a whole one), and no error escapes as an uncaught
 * exception (which would take the server down).
 */

afterEach(() => resetFileStore())

const B = 'XBOUNDARY'
const head = `--${B}\r\nContent-Disposition: form-data; name="files"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n`
const data = 'a,b\n' + '1,2\n'.repeat(500_000)

function request(stream: ReadableStream<Uint8Array>) {
  return new Request('http://hotdash.test/', {
    method: 'POST',
    body: stream,
    headers: { 'content-type': `multipart/form-data; boundary=${B}` },
    duplex: 'half',
  } as RequestInit)
}

/** The whole body in 16 KiB pieces. */
function wholeBody() {
  const all = Buffer.from(`${head}${data}\r\n--${B}--\r\n`)
  let off = 0
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= all.length) return c.close()
      c.enqueue(all.subarray(off, off + 16384))
      off += 16384
    },
  })
}

const stubStore = (put: FileStore['put']): FileStore => ({ put, delete: async () => {} }) as unknown as FileStore

/** Settles within 5 s or says it hung. */
const settled = (p: Promise<unknown>) =>
  Promise.race([
    p.then(
      () => 'resolved',
      (e: Error) => `rejected: ${e.message}`,
    ),
    new Promise((r) => setTimeout(() => r('hung'), 5000)),
  ])

/** Drains a channel on this thread as the pool thread would (without blocking it: the writer runs here too). */
async function drain(channel: ChannelWriter): Promise<string> {
  try {
    for await (const _ of channelReader(channel.spec)) void _
    return 'whole file'
  } catch (e) {
    return `failed: ${(e as Error).message}`
  }
}

describe('receiveUpload when the store or the client fails', () => {
  it.each([false, true])('a store that fails before it reads anything (disk full): rejects, never hangs (tap: %s)', async (tapped) => {
    installFileStore(stubStore(async () => {
      await new Promise((r) => setTimeout(r, 10))
      throw new Error('ENOSPC: no space left on device, mkdir')
    }))
    let channel: ChannelWriter | undefined
    const result = await settled(receiveUpload(request(wholeBody()), 'tenant', tapped ? () => (channel = new ChannelWriter(64 * 1024)) : undefined))
    expect(result).toMatch(/^rejected/)
    if (tapped) expect(await drain(channel!)).toMatch(/^failed/)
  })

  it.each([false, true])('a client that goes away before the store starts reading: rejects, nothing uncaught (tap: %s)', async (tapped) => {
    const uncaught: unknown[] = []
    const onUncaught = (e: unknown) => uncaught.push(e)
    process.on('uncaughtException', onUncaught)
    try {
      installFileStore(stubStore(async (_key, body) => {
        // Slow to start (a mkdir, a remote store's handshake): the part fails before the store listens to it.
        await new Promise((r) => setTimeout(r, 50))
        await pipeline(body as NodeJS.ReadableStream, new Writable({ write: (_c, _e, cb) => cb() }))
        return { size: 0 }
      }))
      const broken = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(Buffer.from(head + data.slice(0, 100_000)))
          setTimeout(() => c.error(new Error('the client went away')), 5)
        },
      })
      let channel: ChannelWriter | undefined
      const result = await settled(receiveUpload(request(broken), 'tenant', tapped ? () => (channel = new ChannelWriter(1024 * 1024)) : undefined))
      await new Promise((r) => setTimeout(r, 100))
      expect(result).toMatch(/^rejected/)
      expect(uncaught).toEqual([])
      if (tapped) expect(await drain(channel!)).toMatch(/^failed/)
    } finally {
      process.off('uncaughtException', onUncaught)
    }
  })
})
