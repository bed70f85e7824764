/** Test-side stream math, written apart from app/features/streams/windows.ts: the oracle the tests hold it to. */

export interface Ev {
  timestamp: number
  value: number
  region?: string
}

export interface ExpectedWindow {
  start: number
  key: string
  values: number[]
}

/**
 * Every (window, key) → the values it holds, with the lateness rule spelled out: an event counts in a window when
 * the window's end is after (newest event time seen before it − lateness).
 */
export function expectedWindows(events: Ev[], opts: { size: number; slide?: number; lateness: number; groupBy?: boolean }) {
  const slide = opts.slide ?? opts.size
  const out = new Map<string, ExpectedWindow>()
  let newest = -Infinity
  let late = 0
  for (const e of events) {
    let counted = false
    // all starts k·slide with k·slide ≤ t < k·slide + size
    for (let k = Math.floor((e.timestamp - opts.size) / slide) + 1; k * slide <= e.timestamp; k++) {
      const start = k * slide
      if (start + opts.size <= newest - opts.lateness) continue
      const key = opts.groupBy ? JSON.stringify([e.region]) : ''
      const id = `${start}|${key}`
      if (!out.has(id)) out.set(id, { start, key, values: [] })
      out.get(id)!.values.push(e.value)
      counted = true
    }
    if (!counted) late++
    newest = Math.max(newest, e.timestamp)
  }
  return { windows: [...out.values()], late, newest }
}

export const exactP95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(0.95 * (values.length - 1))]

/** Deterministic pseudo-random numbers. */
export const seeded = (seed: number) => () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32)

/** Reads server-sent events from a Response body until `until` returns true for one (or the timeout). */
export async function readSse(res: Response, until: (type: string, data: any) => boolean, timeoutMs = 10_000) {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buf = ''
  const seen: { type: string; data: any }[] = []
  const deadline = Date.now() + timeoutMs
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), Math.max(1, deadline - Date.now())))])
      if (!chunk) break
      if (chunk.done) break
      buf += decoder.decode(chunk.value, { stream: true })
      let i: number
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const type = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (!type || data === undefined) continue
        const m = { type, data: JSON.parse(data) }
        seen.push(m)
        if (until(m.type, m.data)) return seen
      }
    }
    throw new Error(`SSE: the awaited event did not come in ${timeoutMs} ms (saw ${seen.map((s) => s.type).join(', ')})`)
  } finally {
    await reader.cancel().catch(() => {})
  }
}
