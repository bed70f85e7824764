import type { AnomalyView, WindowView } from './apply.server.ts'

/*
  The live hub: after a batch commits, its changed windows, anomalies and counters go to every SSE / WebSocket
  subscriber of that stream in this process. Subscribers also poll the database (live-feed.server.ts), which covers
  batches applied by a worker in another process. A globalThis singleton: the route modules (Vite's or the build's
  copy) and the WebSocket server (the server's own import) share one hub in a process.
*/

export interface LiveMetrics {
  events_processed: number
  late_events: number
  invalid_events: number
  anomalies_detected: number
  last_updated: string
}

export interface LiveUpdate {
  stream_id: string
  version: number
  windows: WindowView[]
  anomalies: AnomalyView[]
  metrics: LiveMetrics
}

type Listener = (u: LiveUpdate) => void
const g = globalThis as { __hotdashStreamHub?: Map<string, Set<Listener>> }
const hub = (g.__hotdashStreamHub ??= new Map())

export function publishLive(update: LiveUpdate) {
  const set = hub.get(update.stream_id)
  if (!set) return
  for (const fn of set) {
    try {
      fn(update)
    } catch {
      // a subscriber that throws is its own problem (a closed socket); the others still get the update
    }
  }
}

export function subscribeLive(streamId: string, fn: Listener): () => void {
  let set = hub.get(streamId)
  if (!set) hub.set(streamId, (set = new Set()))
  set.add(fn)
  return () => {
    set.delete(fn)
    if (!set.size) hub.delete(streamId)
  }
}

export const liveSubscriberCount = (streamId: string) => hub.get(streamId)?.size ?? 0
