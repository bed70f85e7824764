import { describe, expect, it } from 'vitest'
import { CsvError, openCsv } from './csv.server.ts'

/** Feeds text in small chunks (cutting records, quotes and multi-byte characters) to prove streaming. */
async function* chunked(text: string | Buffer, size = 7) {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8')
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size)
}

async function readAll(text: string | Buffer, size = 7, limits = {}) {
  const csv = await openCsv(chunked(text, size), limits)
  const rows: string[][] = []
  const firsts: number[] = []
  for await (const b of csv.batches) {
    firsts.push(b.firstRow)
    rows.push(...b.rows)
  }
  return { header: csv.header, delimiter: csv.delimiter, rows, firsts }
}

async function failure(text: string | Buffer, limits = {}) {
  try {
    await readAll(text, 7, limits)
  } catch (e) {
    if (e instanceof CsvError) return e
    throw e
  }
  throw new Error('expected a CsvError')
}

describe('openCsv', () => {
  it('reads BOM, CRLF, quoted commas and newlines, trailing blank lines, multi-byte characters', async () => {
    const text = '\uFEFFid,name,note\r\n1,"Smith, J","line1\r\nline2"\r\n2,Zoë,"say ""hi"""\r\n\r\n\r\n'
    for (const size of [1, 3, 7, 1000]) {
      const r = await readAll(text, size)
      expect(r.header).toEqual(['id', 'name', 'note'])
      expect(r.rows).toEqual([
        ['1', 'Smith, J', 'line1\r\nline2'],
        ['2', 'Zoë', 'say "hi"'],
      ])
    }
  })
  it('reads a file whose read ends right after a closing quote (before its CR, or in spaces after it)', async () => {
    for (const tail of ['\r\n', '  \r\n']) {
      let text = 'id,name\r\n'
      for (let i = 0; text.length < 200_000; i++) text += `${i},"C ${i}"${tail}`
      const cut = text.indexOf('"' + tail[0], 100_000) + 2
      async function* twoReads() {
        yield Buffer.from(text.slice(0, cut))
        yield Buffer.from(text.slice(cut))
      }
      const csv = await openCsv(twoReads())
      let n = 0
      for await (const b of csv.batches) n += b.rows.length
      expect(n).toBe(text.split('\r\n').length - 2)
    }
  })
  it('sniffs ; and tab delimiters, and reads a last row without newline', async () => {
    expect(await readAll('a;b;c\n1,5;2;3\n4;5;6')).toMatchObject({ delimiter: ';', rows: [['1,5', '2', '3'], ['4', '5', '6']] })
    expect(await readAll('a\tb\n1\t2\n')).toMatchObject({ delimiter: '\t', rows: [['1', '2']] })
  })
  it('batches with record numbers', async () => {
    const text = 'x\n' + Array.from({ length: 25 }, (_, i) => String(i)).join('\n')
    const r = await readAll(text, 5, { batchRows: 10 })
    expect(r.rows.length).toBe(25)
    expect(r.firsts).toEqual([1, 11, 21])
  })
  it('rejects what is not CSV with a reason', async () => {
    expect((await failure('')).rule).toBe('empty')
    expect((await failure('  \n\n')).rule).toBe('empty')
    expect((await failure('a,b,c\n')).rule).toBe('no_rows')
    expect((await failure('{"a": 1}')).rule).toBe('not_csv')
    expect((await failure('<html><body>x</body></html>')).rule).toBe('not_csv')
    expect((await failure(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x10]))).rule).toBe('binary')
    expect((await failure(Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0xff, 0xfe, 0x2c, 0x31, 0x0a]))).rule).toBe('not_utf8')
    expect((await failure('a,b,a\n1,2,3\n')).rule).toBe('duplicate_header')
    expect((await failure('a,,c\n1,2,3\n')).rule).toBe('empty_header')
    const ragged = await failure('a,b,c\n1,2,3\n4,5\n')
    expect(ragged.rule).toBe('ragged_row')
    expect(ragged.details).toMatchObject({ row: 2, fields: 2, expected: 3 })
    expect((await failure('a:b:c\n1:2:3\n')).rule).toBe('unknown_delimiter')
    expect((await failure('a,b\n1,"open\n2,3\n')).rule).toBe('unclosed_quote')
    expect((await failure(`a,b\n1,${'x'.repeat(1024 * 1024)}\n`)).rule).toBe('field_too_long')
    expect((await failure(`a,b\n1,"${'x'.repeat(300_000)}`, { maxFieldChars: 1e9, maxRecordChars: 100_000 })).rule).toBe('record_too_long')
  })
})
