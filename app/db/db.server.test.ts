import { describe, expect, it } from 'vitest'
import { pgArrayLiteral, pgArrayParse } from './db.server.ts'

describe('Postgres array literals', () => {
  it('round-trips nulls, quotes, backslashes, braces, the word NULL and empty strings', () => {
    const values = ['a', null, 'q"u\\o,te{}', 'NULL', '', ' padded ']
    const literal = pgArrayLiteral(values)
    expect(literal).toBe('{"a",NULL,"q\\"u\\\\o,te{}","NULL",""," padded "}')
    expect(pgArrayParse(literal, (s) => s)).toEqual(values)
  })

  it('writes booleans, numbers and dates as Postgres reads them, and parses nested arrays', () => {
    expect(pgArrayLiteral([true, false, null, 1.5, new Date(0)])).toBe('{t,f,NULL,1.5,"1970-01-01T00:00:00.000Z"}')
    expect(pgArrayParse('{{1,2},{3,NULL}}', Number)).toEqual([[1, 2], [3, null]])
    expect(pgArrayParse('[0:1]={7,8}', Number)).toEqual([7, 8])
    expect(pgArrayParse('{}', Number)).toEqual([])
  })
})
