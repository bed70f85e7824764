import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATA_TYPES, isInvalid, parseCell, PG_TYPES, type DataType } from '#app/features/templates/column-types.ts'
import { BINARY_HEADER, BINARY_TRAILER, ByteOut, cellEncoder, writeNormalized } from '#app/features/datasets/csv/silver-binary.server.ts'
import { setupTestApp, type TestApp } from '#tests/support/app.ts'

/**
 * Silver values go to Postgres in binary, computed in TypeScript. The reference is Postgres itself: every value
 * loaded in binary must equal Postgres's own cast of the text parseCell accepted (the text COPY we used to send).
 * Runs on the engine under test (PGlite, or the server Postgres with TEST_DATABASE_URL).
 */

let app: TestApp
beforeAll(async () => {
  app = await setupTestApp()
})
afterAll(() => app.close())

function rng(seed: number) {
  let s = seed
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
}

const HANDPICKED = [
  '0', '42', '-7', '+7', ' 8 ', '007', '-0', '-', '+', '1.', '.5', '-.5', '1.5.5', '1e5', '1E-3', '12345678901234567890', '123456789012345678',
  '9007199254740993', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '999999999999999', '1000000000000000',
  '0.1', '0.30000000000000004', '3.141592653589793', '123456789012345', '1234567890123456', '-0.0', '1e308', '1e309', '1e-400', '4.9e-324',
  '2.2250738585072014e-308', '1.7976931348623157e308', '000.000', '  2.5', '1,5', 'abc', 'é',
  'true', 'TRUE', 'True', 'tRuE', 't', 'f', 'yes', 'Yes', 'YES', 'no', 'y', 'n', 'on', 'off', '1', '2', ' true ',
  '2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '2024-02-30', '2024-04-31', '2024-04-30', '2024-12-31', '2024-12-32', '2024-13-01', '2024-00-10', '0000-01-01', '0001-01-01', '9999-12-31', '1999-12-31', '2000-01-01', '1900-02-28',
  '2024-1-01', '2024-01-01 ', '2024/01/01',
  '2025-08-09T16:23:00Z', '2025-08-09T24:00:00Z', '2025-08-09T16:60:00Z', '2025-08-09T16:23:60Z', '2025-08-09 16:23:00Z', '2025-08-09t16:23:00z',
  '2025-08-09T16:23:00+02:00', '2025-08-09T16:23:00-0800', '2025-08-09T16:23:00+05', '2025-08-09T16:23:00+15:59', '2025-08-09T16:23:00+16:00',
  '2025-08-09T16:23', '2025-08-09T16:23:00', '2025-02-30T10:00:00Z', 'x025-08-09T16:23:00Z', '2025-08-09T16:23:00.1Z', '2025-08-09T16:23:00.123456Z',
  '2025-08-09T16:23:00.1234565Z', '2025-08-09T16:23:00.1234575Z', '2025-08-09T16:23:59.9999995Z', '2025-08-09T16:23:00.123456789+05:30',
  '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.5Z', '1999-12-31 23:59:59.9999999', '2025-08-09T16:23:00 Z',
]

function randomInputs(): string[] {
  const r = rng(7)
  const out: string[] = []
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('')
  const pad = (v: number, n: number) => String(v).padStart(n, '0')
  for (let i = 0; i < 400; i++) {
    const sign = r() < 0.3 ? '-' : ''
    out.push(sign + digits(1 + Math.floor(r() * 19)))
    const a = digits(Math.floor(r() * 12))
    const b = digits(Math.floor(r() * 12))
    out.push(`${sign}${a || '0'}.${b}${r() < 0.2 ? `e${Math.floor(r() * 40) - 20}` : ''}`)
    const y = 1 + Math.floor(r() * 9999)
    const date = `${pad(y, 4)}-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 31), 2)}`
    out.push(date)
    const frac = r() < 0.5 ? '' : '.' + digits(1 + Math.floor(r() * 9))
    const zone = ['', 'Z', '+02:00', '-05', '+0530', '-11:45'][Math.floor(r() * 6)]
    out.push(`${date}${r() < 0.5 ? 'T' : ' '}${pad(Math.floor(r() * 24), 2)}:${pad(Math.floor(r() * 60), 2)}:${pad(Math.floor(r() * 60), 2)}${frac}${zone}`)
  }
  return out
}

describe('silver binary values', () => {
  const inputs = [...HANDPICKED, ...randomInputs()]

  it('fast paths write exactly what the parseCell path writes', () => {
    for (const t of DATA_TYPES) {
      const enc = cellEncoder(t)
      for (const v of inputs) {
        const b = Buffer.from(v)
        const fast = new ByteOut(64)
        const bad = enc(b, 0, b.length, fast)
        const p = parseCell(t, v)
        if (isInvalid(p)) {
          expect(bad, `${t} ${JSON.stringify(v)}`).toEqual(p)
          continue
        }
        const slow = new ByteOut(64)
        writeNormalized(t, p, slow)
        expect(bad, `${t} ${JSON.stringify(v)}`).toBeNull()
        expect(fast.take(), `${t} ${JSON.stringify(v)}`).toEqual(slow.take())
      }
    }
  })

  it.each(DATA_TYPES.filter((t) => t !== 'String'))('%s: every value loaded in binary equals Postgres reading the accepted text', async (t: DataType) => {
    const accepted = inputs.map((v) => [v, parseCell(t, v)] as const).filter((x): x is readonly [string, string] => typeof x[1] === 'string')
    expect(accepted.length).toBeGreaterThan(t === 'Boolean' ? 10 : 100)
    const out = new ByteOut()
    const enc = cellEncoder(t)
    accepted.forEach(([raw], i) => {
      const b = Buffer.from(raw)
      out.ensure(64 + b.length)
      out.i16(2)
      out.i32(8)
      out.i64(i)
      expect(enc(b, 0, b.length, out)).toBeNull()
    })
    const table = `public.bin_check_${t.toLowerCase()}`
    const mismatches = await app.db.transaction(async (sql) => {
      await sql.exec(`create temporary table bin_check (i bigint, v ${PG_TYPES[t]}) on commit drop`)
      await sql.copyFrom('bin_check (i, v)', 'with (format binary)', [BINARY_HEADER, out.take()!, BINARY_TRAILER])
      const { rows } = await sql.query<{ i: number; v: string; expected: string }>(
        `select b.i, b.v::text as v, x.s::${PG_TYPES[t]}::text as expected
           from bin_check b join unnest($1::text[]) with ordinality as x(s, n) on x.n = b.i + 1
          where b.v is distinct from x.s::${PG_TYPES[t]}`,
        [accepted.map(([, normalized]) => normalized)],
      )
      return rows.map((r) => ({ input: accepted[r.i][0], loaded: r.v, postgres: r.expected }))
    })
    expect(mismatches, table).toEqual([])
  })
})
