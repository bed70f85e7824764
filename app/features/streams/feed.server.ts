import { asCaller } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { subscribeLive, type LiveUpdate } from './live.server.ts'
import { loadStream, streamAnomalies, streamMetrics, streamWindows } from './streams.server.ts'

/*
  One live feed, two transports (SSE at /api/v1/stream/{id}/live, WebSocket at the create answer's websocket_url):
  a snapshot (recent windows, anomalies, metrics), then every update — from this process's hub at once, and from a
  poll of the database every POLL_MS for batches a worker in another process applied. Each message is
  { type, data }: 'snapshot', 'update' (changed windows + anomalies + counters), 'metrics' (every few seconds).
*/

export type FeedMessage = { type: 'snapshot' | 'update' | 'metrics'; data: unknown }

const POLL_MS = 1000
const METRICS_MS = 5000

/** Checks the caller may read the stream (404 otherwise), then feeds `send` until `signal` aborts. */
export async function openFeed(caller: Caller, id: string, send: (m: FeedMessage) => void, signal: AbortSignal) {
  const db = await getDb()
  const read = <T>(fn: Parameters<typeof asCaller<T>>[2]) => asCaller(db, caller.claims, fn)
  const snapshot = await read(async (tx) => {
    const s = await loadStream(tx, id)
    const windows = await streamWindows(tx, id, { limit: 300 })
    const anomalies = await streamAnomalies(tx, id, { limit: 100 })
    return { stream_id: id, version: Number(s.version), aggregations: s.analytics.aggregations, group_by: s.analytics.group_by, window: s.analytics.window, windows: windows.windows, anomalies: anomalies.anomalies }
  })
  if (signal.aborted) return
  send({ type: 'snapshot', data: snapshot })

  let cursor = snapshot.version
  const delivered = new Set<number>()
  const deliver = (u: LiveUpdate) => {
    if (delivered.has(u.version) || u.version <= snapshot.version) return
    delivered.add(u.version)
    if (delivered.size > 10_000) delivered.clear()
    send({ type: 'update', data: u })
  }
  const unsubscribe = subscribeLive(id, deliver)
  let polling = false
  const poll = setInterval(async () => {
    if (polling || signal.aborted) return
    polling = true
    try {
      const fresh = await read((tx) => streamWindows(tx, id, { limit: 1000, after_version: cursor }))
      if (fresh.version > cursor) {
        const versions = new Map<number, typeof fresh.windows>()
        for (const w of fresh.windows) if (!delivered.has(w.version)) versions.set(w.version, [...(versions.get(w.version) ?? []), w])
        cursor = fresh.version
        if (versions.size) {
          const m = await read((tx) => streamMetrics(tx, id))
          const metrics = { ...m.metrics, last_updated: m.last_updated }
          for (const [version, windows] of [...versions].sort((a, b) => a[0] - b[0])) deliver({ stream_id: id, version, windows, anomalies: [], metrics })
        }
      }
    } catch {
      // the stream was deleted or the database is busy: the next poll tries again; a deleted stream ends below
    } finally {
      polling = false
    }
  }, POLL_MS)
  const metrics = setInterval(async () => {
    try {
      send({ type: 'metrics', data: await read((tx) => streamMetrics(tx, id)) })
    } catch {
      // as above
    }
  }, METRICS_MS)
  const stop = () => {
    clearInterval(poll)
    clearInterval(metrics)
    unsubscribe()
  }
  if (signal.aborted) stop()
  else signal.addEventListener('abort', stop, { once: true })
}

/** The feed as a text/event-stream Response (comment heartbeats every 15 s keep proxies from closing it). */
export async function sseResponse(caller: Caller, id: string, request: Request): Promise<Response> {
  const encoder = new TextEncoder()
  const controller = new AbortController()
  request.signal.addEventListener('abort', () => controller.abort(), { once: true })
  let out!: ReadableStreamDefaultController<Uint8Array>
  const write = (text: string) => {
    try {
      out.enqueue(encoder.encode(text))
    } catch {
      controller.abort()
    }
  }
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      out = c
    },
    cancel() {
      controller.abort()
    },
  })
  // A 404 (unknown or foreign stream) is thrown here, before any byte: the envelope answers it.
  await openFeed(caller, id, (m) => write(`event: ${m.type}\ndata: ${JSON.stringify(m.data)}\n\n`), controller.signal)
  write(`retry: 2000\n\n`)
  const heartbeat = setInterval(() => write(`: ping\n\n`), 15_000)
  controller.signal.addEventListener('abort', () => {
    clearInterval(heartbeat)
    try {
      out.close()
    } catch {
      // already closed
    }
  })
  return new Response(body, {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' },
  })
}
