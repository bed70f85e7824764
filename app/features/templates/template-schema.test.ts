import { describe, expect, it } from 'vitest'
import { normalizeDataType, parseCell } from './column-types.ts'
import { validateTemplateSchema } from './template-schema.ts'

describe('column types', () => {
  it('accepts the spec spellings case-insensitively', () => {
    expect(normalizeDataType('String')).toBe('String')
    expect(normalizeDataType('float')).toBe('Float')
    expect(normalizeDataType(' INTEGER ')).toBe('Integer')
    expect(normalizeDataType('int64')).toBe('Integer')
    expect(normalizeDataType('datetime')).toBe('DateTime')
    expect(normalizeDataType('Bool')).toBe('Boolean')
    expect(normalizeDataType('DATE')).toBe('Date')
    expect(normalizeDataType('blob')).toBeNull()
  })
  it('parses cells strictly', () => {
    expect(parseCell('Integer', ' 42 ')).toBe('42')
    expect(parseCell('Integer', '4.2')).toMatchObject({ rule: 'invalid_integer' })
    expect(parseCell('Integer', '99999999999999999999')).toMatchObject({ rule: 'integer_out_of_range' })
    expect(parseCell('Integer', '9223372036854775807')).toBe('9223372036854775807')
    expect(parseCell('Float', '1.5e3')).toBe('1.5e3')
    expect(parseCell('Float', '.5')).toBe('.5')
    expect(parseCell('Float', '0x10')).toMatchObject({ rule: 'invalid_float' })
    expect(parseCell('Float', '1e999')).toMatchObject({ rule: 'float_out_of_range' })
    expect(parseCell('Float', 'NaN')).toMatchObject({ rule: 'invalid_float' })
    expect(parseCell('Boolean', 'Yes')).toBe('true')
    expect(parseCell('Boolean', 'FALSE')).toBe('false')
    expect(parseCell('Boolean', 'maybe')).toMatchObject({ rule: 'invalid_boolean' })
    expect(parseCell('Date', '2024-02-29')).toBe('2024-02-29')
    expect(parseCell('Date', '2023-02-29')).toMatchObject({ rule: 'invalid_date' })
    expect(parseCell('Date', '0000-01-01')).toMatchObject({ rule: 'invalid_date' })
    expect(parseCell('DateTime', '2025-08-09T16:23:00Z')).toBe('2025-08-09 16:23:00+00')
    expect(parseCell('DateTime', '2025-08-09 16:23')).toBe('2025-08-09 16:23:00+00')
    expect(parseCell('DateTime', '2025-08-09T16:23:00.5+02:00')).toBe('2025-08-09 16:23:00.5+02:00')
    expect(parseCell('DateTime', '2025-08-09T25:00:00Z')).toMatchObject({ rule: 'invalid_datetime' })
    expect(parseCell('String', '  keep  ')).toBe('  keep  ')
  })
})

describe('template schema', () => {
  it('accepts the spec example and normalises types and defaults', () => {
    const r = validateTemplateSchema([
      { column_name: 'CustomerID', data_type: 'String', default_value: 'CUST-0000' },
      { column_name: 'DataUsageGB', data_type: 'float', default_value: '0.0' },
      { column_name: 'Active', data_type: 'BOOLEAN', default_value: true },
      { column_name: 'Plan', data_type: 'String' },
    ])
    expect(r).toEqual({
      ok: true,
      columns: [
        { column_name: 'CustomerID', data_type: 'String', default_value: 'CUST-0000' },
        { column_name: 'DataUsageGB', data_type: 'Float', default_value: '0.0' },
        { column_name: 'Active', data_type: 'Boolean', default_value: 'true' },
        { column_name: 'Plan', data_type: 'String', default_value: null },
      ],
    })
  })
  it('names the column of every problem', () => {
    const r = validateTemplateSchema([
      { column_name: 'A', data_type: 'String' },
      { column_name: ' a ', data_type: 'String' },
      { column_name: '', data_type: 'String' },
      { column_name: 'Qty', data_type: 'Integer', default_value: 'ten' },
      { column_name: 'X', data_type: 'Money' },
      { column_name: '_hd_row', data_type: 'Integer' },
      { column_name: 'x'.repeat(64), data_type: 'String' },
    ])
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.issues.map((i) => i.field)).toEqual([
      'template_schema[1].column_name',
      'template_schema[2].column_name',
      'template_schema[3].default_value',
      'template_schema[4].data_type',
      'template_schema[5].column_name',
      'template_schema[6].column_name',
    ])
    expect(r.issues[2].message).toContain("column 'Qty'")
    expect(r.issues[2].message).toContain("'ten'")
    expect(r.issues[3].message).toContain("'Money'")
  })
})
