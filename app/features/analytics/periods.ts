import type { Interval } from './schemas.ts'

/**
 * Calendar periods as integers (hours, days or Monday-weeks since 1970; months, quarters or years since year 0), so
 * a regression on time and the dates of future periods use the same numbers. The SQL and the TypeScript agree:
 * `periodSql` numbers a row in Postgres, `periodStart` turns a number back into its first instant.
 */

/** `ts` is a timestamp without time zone expression (a Date column cast, or a DateTime column at time zone UTC). */
export function periodSql(interval: Interval, ts: string): string {
  const epoch = `extract(epoch from ${ts})`
  switch (interval) {
    case 'hour':
      return `floor(${epoch} / 3600)`
    case 'day':
      return `floor(${epoch} / 86400)`
    case 'week':
      // 1970-01-01 was a Thursday: +3 days puts week boundaries on Mondays.
      return `floor((floor(${epoch} / 86400) + 3) / 7)`
    case 'month':
      return `(extract(year from ${ts}) * 12 + extract(month from ${ts}) - 1)`
    case 'quarter':
      return `(extract(year from ${ts}) * 4 + floor((extract(month from ${ts}) - 1) / 3))`
    case 'year':
      return `extract(year from ${ts})`
  }
}

export function periodStart(interval: Interval, p: number): Date {
  switch (interval) {
    case 'hour':
      return new Date(p * 3_600_000)
    case 'day':
      return new Date(p * 86_400_000)
    case 'week':
      return new Date((p * 7 - 3) * 86_400_000)
    case 'month':
      return new Date(Date.UTC(Math.floor(p / 12), p % 12, 1))
    case 'quarter':
      return new Date(Date.UTC(Math.floor(p / 4), (p % 4) * 3, 1))
    case 'year':
      return new Date(Date.UTC(p, 0, 1))
  }
}

/** The period of a JavaScript date, as periodSql numbers it (UTC). */
export function periodOf(interval: Interval, d: Date): number {
  const ms = d.getTime()
  switch (interval) {
    case 'hour':
      return Math.floor(ms / 3_600_000)
    case 'day':
      return Math.floor(ms / 86_400_000)
    case 'week':
      return Math.floor((Math.floor(ms / 86_400_000) + 3) / 7)
    case 'month':
      return d.getUTCFullYear() * 12 + d.getUTCMonth()
    case 'quarter':
      return d.getUTCFullYear() * 4 + Math.floor(d.getUTCMonth() / 3)
    case 'year':
      return d.getUTCFullYear()
  }
}

/** How a period is written in a response: a date, or a date-time for hours. */
export function periodLabel(interval: Interval, p: number): string {
  const d = periodStart(interval, p)
  return interval === 'hour' ? d.toISOString() : d.toISOString().slice(0, 10)
}
