import { describe, expect, it } from 'vitest'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { copyField, planFile, RowProcessor, TypeInferer } from './row-validation.ts'

const cols: ColumnSpec[] = [
  { column_name: 'id', data_type: 'Integer', default_value: null },
  { column_name: 'usage', data_type: 'Float', default_value: '0.0' },
  { column_name: 'active', data_type: 'Boolean', default_value: null },
]

describe('planFile', () => {
  it('matches columns in any order, case-insensitively', () => {
    const p = planFile(['Active', 'ID', 'usage'], cols)
    expect(p.source).toEqual([1, 2, 0])
    expect(p.headerOk).toBe(true)
  })
  it('reports missing, defaulted, renamed and extra columns', () => {
    const p = planFile(['id', 'use', 'extra'], cols)
    expect(p.issues.map((i) => [i.rule, i.column, i.value])).toEqual([
      ['renamed_column', 'usage', 'use'],
      ['renamed_column', 'active', 'extra'],
    ])
    expect(p.fatal).toBe(true)
    expect(planFile(['id', 'usage'], cols).issues.map((i) => [i.rule, i.column])).toEqual([['missing_column', 'active']])
    expect(planFile(['id', 'usage', 'active', 'x'], cols).issues.map((i) => [i.rule, i.column])).toEqual([['extra_column', 'x']])
    const q = planFile(['id', 'active'], cols)
    expect(q.issues.map((i) => i.rule)).toEqual(['missing_column_defaulted'])
    expect(q.fatal).toBe(false)
  })
})

describe('RowProcessor', () => {
  it('types valid rows, applies defaults, reports each broken cell', () => {
    const p = new RowProcessor(planFile(['id', 'usage', 'active'], cols), 7, { tenantId: 'T' })
    const out = p.processBatch(
      [
        ['1', '2.5', 'yes'],
        ['x', '', 'no'],
        ['3', 'abc', 'maybe'],
        ['4', '', ''],
      ],
      1,
    )
    expect(out.silver).toBe('7\t1\t1\t2.5\ttrue\n7\t4\t4\t0.0\t\\N\n')
    expect(out.bronze.split('\n')[1]).toBe('7\t2\tf\tx\t\tno')
    expect(out.errors.trim().split('\n').map((l) => l.split('\t').slice(2, 6))).toEqual([
      ['2', 'id', 'x', 'invalid_integer'],
      ['3', 'usage', 'abc', 'invalid_float'],
      ['3', 'active', 'maybe', 'invalid_boolean'],
    ])
    expect([p.total, p.valid, p.errorCount]).toEqual([4, 2, 3])
    expect(p.summary()).toMatchObject({ invalid_rows: 2, error_count: 3, by_rule: { invalid_integer: 1, invalid_float: 1, invalid_boolean: 1 } })
  })
  it('writes the same COPY text for a plain batch (fast path) as for any batch', () => {
    const rows = [['4', '1.5', 'yes'], ['x', '', 'no'], [' ', ' ', ' ']]
    const a = new RowProcessor(planFile(['id', 'usage', 'active'], cols), 7, { tenantId: 'T' }).processBatch(rows, 1, false)
    const b = new RowProcessor(planFile(['id', 'usage', 'active'], cols), 7, { tenantId: 'T' }).processBatch(rows, 1, true)
    expect(b).toEqual(a)
    const c = new RowProcessor(planFile(['active', 'id'], cols), 7, { tenantId: 'T' }).processBatch([['t', '1']], 1, true)
    expect(c.bronze).toBe('7\t1\tt\t1\t\\N\tt\n')
    expect(c.silver).toBe('7\t1\t1\t0.0\ttrue\n')
  })
  it('has a null report for a clean file', () => {
    const p = new RowProcessor(planFile(['id', 'usage', 'active'], cols), 1)
    p.processBatch([['1', '1', 'true']], 1)
    expect(p.summary()).toBeNull()
  })
  it('escapes COPY text', () => {
    expect(copyField('a\tb\\c\nd')).toBe('a\\tb\\\\c\\nd')
    expect(copyField(null)).toBe('\\N')
  })
})

describe('TypeInferer', () => {
  it('picks the narrowest type that fits every non-empty value', () => {
    const t = new TypeInferer(['a', 'b', 'c', 'd', 'e', 'f', 'g'])
    t.observe([
      ['1', '1.5', 'true', '2025-01-01', '2025-01-01T10:00:00Z', 'x', ''],
      ['2', '2', 'no', '2025-01-02', '2025-01-01 11:00', '1', ''],
      ['', '', '', '', '', '', ''],
    ])
    expect(t.types()).toEqual(['Integer', 'Float', 'Boolean', 'Date', 'DateTime', 'String', 'String'])
  })
})
