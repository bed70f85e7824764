import { describe, expect, it } from 'vitest'
import { INTERVALS } from './schemas.ts'
import { periodLabel, periodOf, periodStart } from './periods.ts'

describe('calendar periods', () => {
  it('numbers a date and gives back the start of its period', () => {
    const d = new Date('2024-02-29T15:30:00Z')
    expect(periodLabel('day', periodOf('day', d))).toBe('2024-02-29')
    expect(periodLabel('week', periodOf('week', d))).toBe('2024-02-26') // a Monday
    expect(periodLabel('month', periodOf('month', d))).toBe('2024-02-01')
    expect(periodLabel('quarter', periodOf('quarter', d))).toBe('2024-01-01')
    expect(periodLabel('year', periodOf('year', d))).toBe('2024-01-01')
    expect(periodLabel('hour', periodOf('hour', d))).toBe('2024-02-29T15:00:00.000Z')
    expect(periodLabel('month', periodOf('month', d) + 11)).toBe('2025-01-01')
    for (const i of INTERVALS) expect(periodOf(i, periodStart(i, periodOf(i, d)))).toBe(periodOf(i, d))
  })
})
