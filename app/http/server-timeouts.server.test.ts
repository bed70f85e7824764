import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyHttpTimeouts, httpTimeouts } from './server-timeouts.server.ts'

/**
 * The HTTP server's limits on a real socket, scaled down (headers 300 ms, request 1.5 s; Node checks every 50 ms
 * here): a client stalled in its headers or its body is cut off with a 408; a steady one is not; the time the
 * server takes to answer does not count.
 */

let server: http.Server
let port = 0
beforeAll(async () => {
  server = http.createServer({ connectionsCheckingInterval: 50 }, (req, res) => {
    let n = 0
    req.on('data', (c: Buffer) => (n += c.length))
    req.on('end', () => {
      const wait = Number(new URL(req.url!, 'http://x').searchParams.get('answerAfterMs') ?? 0)
      setTimeout(() => res.end(String(n)), wait)
    })
  })
  applyHttpTimeouts(server, { headersTimeoutMs: 300, requestTimeoutMs: 1500 })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as net.AddressInfo).port
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

/** Writes `parts` with `gapMs` between them; resolves with what the server sent back and when the socket closed. */
function client(parts: string[], gapMs: number) {
  return new Promise<{ reply: string; ms: number }>((resolve) => {
    const t0 = performance.now()
    const s = net.connect(port, '127.0.0.1')
    let reply = ''
    s.on('data', (d) => (reply += d.toString()))
    s.on('error', () => {})
    s.on('close', () => resolve({ reply, ms: performance.now() - t0 }))
    let i = 0
    const next = () => {
      if (s.destroyed) return
      if (i < parts.length) {
        s.write(parts[i++])
        setTimeout(next, gapMs)
      }
    }
    next()
    setTimeout(() => s.destroy(), 8000)
  })
}

const head = (length: number, path = '/') => `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n`

describe('HTTP server timeouts', () => {
  it('cuts off a client that stops in the middle of its headers', async () => {
    const r = await client(['POST / HTTP/1.1\r\nHost: x\r\n'], 10_000)
    expect(r.reply).toMatch(/^HTTP\/1.1 408/)
    expect(r.ms).toBeLessThan(1200)
  })

  it('cuts off a client that stops sending its body', async () => {
    const r = await client([head(100_000), 'x'.repeat(1000)], 10_000)
    expect(r.reply).toMatch(/^HTTP\/1.1 408/)
    expect(r.ms).toBeGreaterThan(1400)
    expect(r.ms).toBeLessThan(3000)
  })

  it('lets a slow but steady client finish, and does not count the time to answer', async () => {
    const body = Array.from({ length: 8 }, () => 'y'.repeat(8192))
    const steady = await client([head(8 * 8192), ...body], 100)
    expect(steady.reply).toMatch(/^HTTP\/1.1 200[\s\S]*65536$/)
    const slowAnswer = await client([head(10, '/?answerAfterMs=2500'), '0123456789'], 10)
    expect(slowAnswer.reply).toMatch(/^HTTP\/1.1 200[\s\S]*10$/)
    expect(slowAnswer.ms).toBeGreaterThan(2400)
  })

  it('has production defaults that fit an upload near the size limit at a modest rate', () => {
    const t = httpTimeouts({})
    expect(t.headersTimeoutMs).toBe(20_000)
    // One 2 GiB upload file at 0.6 MB/s.
    expect(t.requestTimeoutMs).toBeGreaterThanOrEqual(((2 * 1024 ** 3) / 600_000) * 1000)
    expect(() => httpTimeouts({ HTTP_REQUEST_TIMEOUT_SECONDS: 'soon' })).toThrow(/HTTP_REQUEST_TIMEOUT_SECONDS/)
  })
})
