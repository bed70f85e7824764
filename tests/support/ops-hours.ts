import type { OpsData } from '#app/demo/ops.server.ts'
import { HOUR_MS, type HourTotals } from '#app/features/ops/detector.ts'

/*
  hourly_commerce computed in TypeScript from generated raw orders (test-side, independent of the SQL): per UTC hour,
  orders placed (not cancelled), refunded ones, net revenue and its squares, and — as of a given moment — how many of
  the others are fulfilled or still pending.
*/
interface Hour {
  orders: number
  refunded: number
  revenue: number
  revenueSq: number
  /** when each order not refunded was fulfilled (Infinity: not yet, so never counted at any finite asOf), ascending */
  fulfilledAt: number[]
}

export interface HourlySeries {
  /** the hour's totals with fulfilment as of `asOf` (default: as the data stands) */
  lookup: (hourStart: number, asOf?: number) => HourTotals | undefined
  firstHour: number
  /** the same series with every order of the given hours removed (an outage what-if) */
  without: (hours: Iterable<number>) => HourlySeries
}

export function hourlySeries(data: Pick<OpsData, 'orders'>): HourlySeries {
  const byHour = new Map<number, Hour>()
  for (const o of data.orders) {
    if (o.status === 'cancelled') continue
    const h = Math.floor(o.created_at.getTime() / HOUR_MS) * HOUR_MS
    const x = byHour.get(h) ?? { orders: 0, refunded: 0, revenue: 0, revenueSq: 0, fulfilledAt: [] }
    x.orders++
    if (o.status === 'refunded') x.refunded++
    else {
      x.revenue += o.total_price
      x.revenueSq += o.total_price * o.total_price
      x.fulfilledAt.push(o.fulfilled_at && o.fulfillment_status === 'fulfilled' ? o.fulfilled_at.getTime() : Infinity)
    }
    byHour.set(h, x)
  }
  for (const x of byHour.values()) x.fulfilledAt.sort((a, b) => a - b)
  return fromMap(byHour)
}

function countUpTo(sorted: number[], t: number) {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] <= t) lo = mid + 1
    else hi = mid
  }
  return lo
}

function fromMap(byHour: Map<number, Hour>, dropped: ReadonlySet<number> = new Set()): HourlySeries {
  const first = Math.min(...[...byHour].filter(([h, x]) => x.orders > 0 && !dropped.has(h)).map(([h]) => h))
  return {
    lookup(h, asOf = Number.MAX_VALUE) {
      const x = dropped.has(h) ? undefined : byHour.get(h)
      if (!x) return undefined
      const fulfilled = countUpTo(x.fulfilledAt, asOf)
      return { orders: x.orders, refunded: x.refunded, revenue: x.revenue, revenueSq: x.revenueSq, fulfilled, pending: x.fulfilledAt.length - fulfilled }
    },
    firstHour: first,
    without: (hours) => fromMap(byHour, new Set([...dropped, ...hours])),
  }
}
