/*
  Time for forecasting: the six frequencies, each timestamp mapped to an integer period index (UTC), the date of a
  period, the season length of a frequency, and the regular series built from irregular rows: one value per period
  (rows of one period averaged), every missing period filled explicitly (linear between neighbours) and counted.
*/

export const FREQUENCIES = ['Hour', 'Day', 'Week', 'Month', 'Quarter', 'Year'] as const
export type Frequency = (typeof FREQUENCIES)[number]

/** The usual season length of a frequency (1 = no seasonality). */
export const SEASON_LENGTH: Record<Frequency, number> = { Hour: 24, Day: 7, Week: 52, Month: 12, Quarter: 4, Year: 1 }

const HOUR = 3_600_000
const DAY = 24 * HOUR
// 1970-01-05 was a Monday: weeks start on Monday (ISO).
const MONDAY = 4 * DAY

/** Spellings people send (Week, weekly, W, …) → the canonical name, or null. */
export function parseFrequency(s: string): Frequency | null {
  const k = s.trim().toLowerCase()
  const map: Record<string, Frequency> = {
    hour: 'Hour', hourly: 'Hour', h: 'Hour', hours: 'Hour',
    day: 'Day', daily: 'Day', d: 'Day', days: 'Day',
    week: 'Week', weekly: 'Week', w: 'Week', weeks: 'Week',
    month: 'Month', monthly: 'Month', m: 'Month', ms: 'Month', months: 'Month',
    quarter: 'Quarter', quarterly: 'Quarter', q: 'Quarter', qs: 'Quarter', quarters: 'Quarter',
    year: 'Year', yearly: 'Year', annual: 'Year', y: 'Year', a: 'Year', years: 'Year',
  }
  return map[k] ?? null
}

/** Milliseconds since the epoch (UTC) of a Date, a 'YYYY-MM-DD' text or an ISO date-time text; NaN when unreadable. */
export function toMillis(v: unknown): number {
  if (v instanceof Date) return v.getTime()
  if (typeof v === 'number') return v
  if (typeof v !== 'string') return NaN
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v.trim())
  if (d) return Date.UTC(+d[1], +d[2] - 1, +d[3])
  return Date.parse(v)
}

/** The period a moment falls in. */
export function periodOf(ms: number, f: Frequency): number {
  const d = new Date(ms)
  switch (f) {
    case 'Hour':
      return Math.floor(ms / HOUR)
    case 'Day':
      return Math.floor(ms / DAY)
    case 'Week':
      return Math.floor((ms - MONDAY) / (7 * DAY))
    case 'Month':
      return d.getUTCFullYear() * 12 + d.getUTCMonth()
    case 'Quarter':
      return d.getUTCFullYear() * 4 + Math.floor(d.getUTCMonth() / 3)
    case 'Year':
      return d.getUTCFullYear()
  }
}

/** The first moment of a period (UTC). */
export function periodStart(p: number, f: Frequency): number {
  switch (f) {
    case 'Hour':
      return p * HOUR
    case 'Day':
      return p * DAY
    case 'Week':
      return p * 7 * DAY + MONDAY
    case 'Month':
      return Date.UTC(Math.floor(p / 12), ((p % 12) + 12) % 12, 1)
    case 'Quarter':
      return Date.UTC(Math.floor(p / 4), (((p % 4) + 4) % 4) * 3, 1)
    case 'Year':
      return Date.UTC(p, 0, 1)
  }
}

/** A period as the API writes it: a date (YYYY-MM-DD), or an ISO date-time for hours. */
export function periodLabel(p: number, f: Frequency): string {
  const iso = new Date(periodStart(p, f)).toISOString()
  return f === 'Hour' ? iso.slice(0, 19) + 'Z' : iso.slice(0, 10)
}

/** The frequency whose period matches the most common gap between consecutive distinct timestamps. */
export function inferFrequency(millis: number[]): Frequency | null {
  const sorted = [...new Set(millis.filter(Number.isFinite))].sort((a, b) => a - b)
  if (sorted.length < 3) return null
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i])
  gaps.sort((a, b) => a - b)
  const g = gaps[Math.floor(gaps.length / 2)] / DAY
  if (g < 0.5) return 'Hour'
  if (g < 3) return 'Day'
  if (g < 15) return 'Week'
  if (g < 45) return 'Month'
  if (g < 180) return 'Quarter'
  return 'Year'
}

export interface RegularSeries {
  /** period index of values[0] */
  start: number
  values: number[]
  /** rows read, periods with more than one row (averaged), periods filled in */
  rows: number
  duplicates: number
  filled: number
  /** indexes (into values) of the periods that were filled */
  filled_at: number[]
}

/**
 * One value per period from (moment, value) pairs: rows of the same period are averaged, rows without a value are
 * dropped, and every period between the first and the last with no value is filled by linear interpolation between
 * its neighbours (explicit, and counted in `filled`).
 */
export function regularize(points: { t: number; y: number }[], f: Frequency): RegularSeries {
  const sums = new Map<number, { s: number; n: number }>()
  let rows = 0
  for (const p of points) {
    if (!Number.isFinite(p.t) || !Number.isFinite(p.y)) continue
    rows++
    const k = periodOf(p.t, f)
    const e = sums.get(k)
    if (e) {
      e.s += p.y
      e.n++
    } else sums.set(k, { s: p.y, n: 1 })
  }
  if (!sums.size) return { start: 0, values: [], rows, duplicates: 0, filled: 0, filled_at: [] }
  const keys = [...sums.keys()].sort((a, b) => a - b)
  const start = keys[0]
  const n = keys[keys.length - 1] - start + 1
  const values = new Array<number>(n).fill(NaN)
  let duplicates = 0
  for (const [k, e] of sums) {
    values[k - start] = e.s / e.n
    if (e.n > 1) duplicates++
  }
  const filledAt: number[] = []
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(values[i])) continue
    let j = i
    while (Number.isNaN(values[j])) j++
    const a = values[i - 1]
    const b = values[j]
    for (let k = i; k < j; k++) {
      values[k] = a + ((b - a) * (k - i + 1)) / (j - i + 1)
      filledAt.push(k)
    }
    i = j
  }
  return { start, values, rows, duplicates, filled: filledAt.length, filled_at: filledAt }
}

/**
 * A regressor's values on the target's periods (start … start + n − 1): rows of a period averaged, periods without a
 * value filled by linear interpolation inside the regressor's known span and by the nearest known value outside it;
 * `filled` counts the periods filled. Null when the regressor has no value at all.
 */
export function alignRegressor(points: { t: number; y: number }[], f: Frequency, start: number, n: number): { values: number[]; filled: number } | null {
  const r = regularize(points, f)
  if (!r.values.length) return null
  const gaps = new Set(r.filled_at)
  let filled = 0
  const values = Array.from({ length: n }, (_, i) => {
    const j = start + i - r.start
    if (j < 0 || j >= r.values.length || gaps.has(j)) filled++
    return r.values[Math.max(0, Math.min(r.values.length - 1, j))]
  })
  return { values, filled }
}
