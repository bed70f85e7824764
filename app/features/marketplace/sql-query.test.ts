import { describe, expect, it } from 'vitest'
import { compileQuery, parameterValues, queryParameters } from './sql-query.ts'
import type { SqlParameter } from './schemas.ts'

const params: SqlParameter[] = [
  { name: 'region', type: 'string', required: true, enum: ['north', 'south'] },
  { name: 'since', type: 'date', required: true },
  { name: 'min_total', type: 'number', required: false, min: 0 },
  { name: 'n', type: 'integer', required: false, default: 10, max: 100 },
]

describe('SQL asset queries', () => {
  it("compiles :names to the driver's placeholders, leaving casts, strings and comments alone", () => {
    const q = "select region, sum(total)::float as revenue, ':not' as s -- :nope\nfrom orders where region = :region and day >= :since::date and region <> :region /* :x */ limit :n"
    expect(compileQuery(q, params, 'postgres')).toEqual({
      text: "select region, sum(total)::float as revenue, ':not' as s -- :nope\nfrom orders where region = $1 and day >= $2::date and region <> $3 /* :x */ limit $4",
      order: ['region', 'since', 'region', 'n'],
    })
    expect(compileQuery('select * from t where a = :region;', params, 'mysql').text).toBe('select * from t where a = ?')
  })

  it('refuses writes, several statements and undeclared names, naming the field', () => {
    expect(() => queryParameters('delete from orders')).toThrow(/read-only/)
    expect(() => queryParameters('select 1; drop table x')).toThrow(/single statement/)
    expect(() => compileQuery('select :who', params, 'postgres')).toThrow(expect.objectContaining({ field: 'configuration.parameters' }))
    expect(queryParameters("with x as (select 1) select * from x where ';' = ';'")).toEqual([])
  })

  it('types and checks the values, naming the field', () => {
    expect(parameterValues(params, { region: 'north', since: '2025-01-31' })).toEqual({ region: 'north', since: '2025-01-31', min_total: null, n: 10 })
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ since: '2025-01-01' }, 'input_data.region', /required/],
      [{ region: 'east', since: '2025-01-01' }, 'input_data.region', /one of/],
      [{ region: 'north', since: '2025-02-30' }, 'input_data.since', /date/],
      [{ region: 'north', since: '2025-01-01', n: 1.5 }, 'input_data.n', /integer/],
      [{ region: 'north', since: '2025-01-01', n: 1000 }, 'input_data.n', /at most/],
      [{ region: 'north', since: '2025-01-01', min_total: '5' }, 'input_data.min_total', /number/],
      [{ region: 'north', since: '2025-01-01', drop: 1 }, 'input_data.drop', /not a parameter/],
    ]
    for (const [input, field, message] of bad) {
      expect(() => parameterValues(params, input)).toThrow(expect.objectContaining({ field, message: expect.stringMatching(message) }))
    }
  })
})
