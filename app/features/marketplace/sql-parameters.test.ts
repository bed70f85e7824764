import { describe, expect, it } from 'vitest'
import { configuration } from './schemas.ts'
import { emptyRow, parametersFromRows, rowsFromParameters, undeclared } from './sql-parameters.ts'

describe("the provider form's parameter rows", () => {
  it('produce the JSON configuration.parameters takes, typed defaults included', () => {
    const { parameters, errors } = parametersFromRows([
      { ...emptyRow('region'), extra: { enum: ['north', 'south'] } },
      { name: 'since', type: 'date', default: '2025-01-01', required: false, extra: {} },
      { name: 'top', type: 'integer', default: '10', required: true, extra: {} },
      { name: 'ratio', type: 'number', default: '0.5', required: true, extra: {} },
      { name: 'active', type: 'boolean', default: 'false', required: false, extra: {} },
    ])
    expect(errors).toEqual({})
    expect(parameters).toEqual([
      { enum: ['north', 'south'], name: 'region', type: 'string', required: true },
      { name: 'since', type: 'date', required: false, default: '2025-01-01' },
      { name: 'top', type: 'integer', required: true, default: 10 },
      { name: 'ratio', type: 'number', required: true, default: 0.5 },
      { name: 'active', type: 'boolean', required: false, default: false },
    ])
    // the API's own schema takes it as it is
    expect(configuration.safeParse({ query: 'select 1', parameters }).success).toBe(true)
  })

  it('name what does not fit, keyed by row', () => {
    const { errors } = parametersFromRows([
      { ...emptyRow('Region') },
      { name: 'top', type: 'integer', default: '1.5', required: true, extra: {} },
      { name: 'top', type: 'date', default: '2025-02-30', required: true, extra: {} },
      { name: 'ok', type: 'boolean', default: 'yes', required: true, extra: {} },
    ])
    expect(errors).toEqual({
      '0.name': 'must be a lower_snake_case name',
      '1.default': 'must be an integer',
      '2.name': ':top is declared twice',
      '2.default': 'must be a date (YYYY-MM-DD)',
      '3.default': 'must be true or false',
    })
  })

  it('round-trip through the JSON view, keeping the keys the rows do not edit', () => {
    const json = [
      { name: 'region', type: 'string', enum: ['north'], description: 'sales region' },
      { name: 'since', type: 'date', default: '2025-01-01', required: false },
      { name: 'n', type: 'integer', default: 5, min: 1, max: 100 },
    ]
    const rows = rowsFromParameters(json)
    expect(Array.isArray(rows)).toBe(true)
    expect(parametersFromRows(rows as never).parameters).toEqual([
      { name: 'region', type: 'string', required: true, enum: ['north'], description: 'sales region' },
      { name: 'since', type: 'date', required: false, default: '2025-01-01' },
      { name: 'n', type: 'integer', required: true, default: 5, min: 1, max: 100 },
    ])
    expect(rowsFromParameters({ name: 'x' })).toEqual({ error: 'must be a JSON array of parameters' })
    expect(rowsFromParameters([{ name: 'x', type: 'uuid' }])).toMatchObject({ error: expect.stringContaining('type must be one of') })
  })

  it("list the query's names not declared yet", () => {
    expect(undeclared(['region', 'since', 'region'], [emptyRow('since')])).toEqual(['region'])
  })
})
