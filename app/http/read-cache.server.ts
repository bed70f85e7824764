import crypto from 'node:crypto'
import type { Db } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'

/*
  The server-side read cache of GET endpoints whose answer is a pure function of (tenant, parsed parameters, a
  version the source names). An entry is served only while its version is current, so invalidation is the source's
  job (the ops views: their refresh generation, decision 018). Authentication, rate limit and permission run before
  any lookup, in api(): a cached answer only ever reaches a caller who passed the same checks for the same tenant.
*/

export interface ReadCacheSource {
  /** Names the source in ETags and logs. */
  readonly name: string
  /**
   * The version of everything the answers read, or null when it is not known for sure (listener not connected yet,
   * cache switched off): then nothing is cached and the ETag falls back to a hash of the body.
   */
  version(db: Db): string | null | Promise<string | null>
  /** What besides the tenant changes an answer (permission-dependent output); default: nothing. */
  scope?(caller: Caller): string
}

interface Entry {
  version: string
  text: string
}

const MAX_BYTES = Number(process.env.READ_CACHE_MAX_BYTES ?? 32 * 1024 * 1024)

const g = globalThis as { __hotdashReadCache?: ReadCache }

class ReadCache {
  private entries = new Map<string, Entry>()
  private inflight = new Map<string, Promise<string>>()
  private bytes = 0
  hits = 0
  misses = 0

  get(key: string, version: string): string | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    this.entries.delete(key)
    if (e.version !== version) {
      this.bytes -= e.text.length
      return undefined
    }
    this.entries.set(key, e) // most recently used last
    return e.text
  }

  set(key: string, version: string, text: string) {
    const old = this.entries.get(key)
    if (old) {
      this.bytes -= old.text.length
      this.entries.delete(key)
    }
    if (text.length > MAX_BYTES / 8) return // one huge answer must not evict everything else
    this.entries.set(key, { version, text })
    this.bytes += text.length
    // least recently used first
    for (const [k, e] of this.entries) {
      if (this.bytes <= MAX_BYTES) break
      this.entries.delete(k)
      this.bytes -= e.text.length
    }
  }

  /** One computation per key and version at a time: concurrent misses (a refresh under load) share it. */
  async load(key: string, version: string, compute: () => Promise<string>): Promise<{ text: string; shared: boolean }> {
    const flightKey = `${version}\u0000${key}`
    const running = this.inflight.get(flightKey)
    if (running) {
      // The first caller's failure may be its own (a timeout): compute for ourselves then.
      const text = await running.catch(() => null)
      if (text !== null) return { text, shared: true }
    }
    const p = compute()
    this.inflight.set(flightKey, p)
    try {
      const text = await p
      this.set(key, version, text)
      return { text, shared: false }
    } finally {
      if (this.inflight.get(flightKey) === p) this.inflight.delete(flightKey)
    }
  }

  clear() {
    this.entries.clear()
    this.inflight.clear()
    this.bytes = 0
  }

  get size() {
    return this.entries.size
  }
}

export function readCache(): ReadCache {
  return (g.__hotdashReadCache ??= new ReadCache())
}

const routeIds = new WeakMap<object, number>()
let nextRouteId = 1

/** The entry's key: the route (its aliases share it), the tenant, the source's scope, and the parsed parameters. */
export function readCacheKey(route: object, source: ReadCacheSource, caller: Caller, input: unknown): string {
  let id = routeIds.get(route)
  if (!id) routeIds.set(route, (id = nextRouteId++))
  return `${source.name}|${id}|${caller.tenantId}|${source.scope?.(caller) ?? ''}|${JSON.stringify(input ?? null)}`
}

/**
 * The ETag of an answer, known without computing it: the source's version (the views' generation and the hour),
 * and a digest of the key so that two tenants' (or two parameter sets') answers never share a tag.
 */
export function readCacheEtag(source: ReadCacheSource, version: string, key: string) {
  const digest = crypto.createHash('sha1').update(key).digest('base64url').slice(0, 12)
  return `W/"${source.name}-${version}-${digest}"`
}
