import { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { ApiError } from './errors.server.ts'

/** Route classes and their budgets per caller (the HD spec's limits, plus a login guard and a default). */
export const RATE_CLASSES = {
  dashboard: { points: 60, duration: 60 },
  agent: { points: 60, duration: 60 },
  export: { points: 10, duration: 3600 },
  auth: { points: 10, duration: 15 * 60 },
  // Failed logins or credentials from one IP across all usernames/keys (an office behind one NAT stays well under it).
  auth_ip: { points: 100, duration: 15 * 60 },
  default: { points: 600, duration: 60 },
} as const
export type RateClass = keyof typeof RATE_CLASSES

// One Redis connection and one set of counters per process: on globalThis they survive Vite re-running this module after an edit in dev (decision 005).
const g = globalThis as { __hotdashLimiters?: Map<RateClass, RateLimiterAbstract>; __hotdashRedis?: Redis }

function limiter(cls: RateClass): RateLimiterAbstract {
  g.__hotdashLimiters ??= new Map()
  let l = g.__hotdashLimiters.get(cls)
  if (l) return l
  const opts = { keyPrefix: `${process.env.RATE_LIMIT_NAMESPACE ?? 'hd'}:rl${generation || ''}:${cls}`, ...RATE_CLASSES[cls] }
  const memory = new RateLimiterMemory(opts)
  const url = process.env.REDIS_URL
  if (url) {
    g.__hotdashRedis ??= new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
    g.__hotdashRedis.on('error', () => {}) // the insurance limiter covers an outage
    l = new RateLimiterRedis({ ...opts, storeClient: g.__hotdashRedis, insuranceLimiter: memory })
  } else l = memory
  g.__hotdashLimiters.set(cls, l)
  return l
}

function headersFor(cls: RateClass, res: RateLimiterRes) {
  const { points, duration } = RATE_CLASSES[cls]
  const reset = Math.max(0, Math.ceil(res.msBeforeNext / 1000))
  return {
    'RateLimit-Limit': String(points),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(reset),
    'RateLimit-Policy': `${points};w=${duration}`,
  }
}

/** Takes one point for key in the class; throws the 429 envelope when the budget is spent. */
export async function consumeRateLimit(cls: RateClass, key: string, points = 1) {
  try {
    const res = await limiter(cls).consume(key, points)
    return { headers: headersFor(cls, res) }
  } catch (e) {
    if (!(e instanceof RateLimiterRes)) throw e
    const { points: limit, duration } = RATE_CLASSES[cls]
    const retryAfter = Math.max(1, Math.ceil(e.msBeforeNext / 1000))
    throw new ApiError(
      429,
      'RATE_LIMIT_EXCEEDED',
      `Rate limit exceeded: ${limit} requests per ${duration} s`,
      { retry_after: retryAfter, limit, window: duration, class: cls },
      { ...headersFor(cls, e), 'Retry-After': String(retryAfter) },
    )
  }
}

/** Refuses with 429 if the key has already spent its budget, without spending a point (failure guards). */
/** Counts one failure against a key without refusing (the next assertUnderLimit decides). */
export async function countFailure(cls: RateClass, key: string) {
  await limiter(cls).penalty(key, 1)
}

export async function assertUnderLimit(cls: RateClass, key: string) {
  const res = await limiter(cls).get(key)
  if (res && res.consumedPoints >= RATE_CLASSES[cls].points) {
    const e = Object.assign(new RateLimiterRes(), res)
    const { points: limit, duration } = RATE_CLASSES[cls]
    const retryAfter = Math.max(1, Math.ceil(e.msBeforeNext / 1000))
    throw new ApiError(
      429,
      'RATE_LIMIT_EXCEEDED',
      `Too many failed attempts: ${limit} per ${duration} s`,
      { retry_after: retryAfter, limit, window: duration, class: cls },
      { ...headersFor(cls, e), 'Retry-After': String(retryAfter) },
    )
  }
}

/**
 * Brute-force guard: refuses while the key is locked out, runs the attempt, and counts a point only when it fails
 * (returns null or throws). A success clears the key.
 */
export async function guardFailures<T>(key: string, attempt: () => Promise<T | null>, onFailure: () => Error, ip?: string): Promise<T> {
  const ipKey = ip ? `authfail:${ip}` : undefined
  if (ipKey) await assertUnderLimit('auth_ip', ipKey)
  await assertUnderLimit('auth', key)
  const fail = async () => {
    await limiter('auth').penalty(key, 1)
    if (ipKey) await limiter('auth_ip').penalty(ipKey, 1)
  }
  let result: T | null
  try {
    result = await attempt()
  } catch (e) {
    await fail()
    throw e
  }
  if (result === null) {
    await fail()
    throw onFailure()
  }
  await resetRateLimit('auth', key)
  return result
}

/** Forgets a key's spent points (a successful login clears its failures). */
export async function resetRateLimit(cls: RateClass, key: string) {
  await limiter(cls).delete(key)
}

let generation = 0

/** Tests start with fresh budgets: new limiters under a new key prefix (so a shared Redis forgets too). */
export function resetAllRateLimits() {
  g.__hotdashLimiters?.clear()
  generation++
}
