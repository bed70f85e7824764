import { describe, expect, it } from 'vitest'
import { CsvError, openCsv } from './csv.server.ts'
import { openCsvRecords } from './csv-records.server.ts'

/**
 * The upload's byte reader against openCsv (papaparse on the whole text) on random files: the same header, the
 * same records, the same errors, whatever the delimiter, line ends, quoting, chunk sizes and read sizes.
 */

function rng(seed: number) {
  let s = seed
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
}

async function* chunked(buf: Buffer, sizes: () => number) {
  for (let i = 0; i < buf.length; ) {
    const n = Math.max(1, sizes())
    yield buf.subarray(i, i + n)
    i += n
  }
}

type Outcome = { header: string[]; rows: string[][] } | { error: string; details: Record<string, unknown> }

async function viaPapaparse(buf: Buffer): Promise<Outcome> {
  try {
    const csv = await openCsv(chunked(buf, () => buf.length))
    const rows: string[][] = []
    for await (const b of csv.batches) rows.push(...b.rows)
    return { header: csv.header, rows }
  } catch (e) {
    if (e instanceof CsvError) return { error: e.rule, details: e.details }
    throw e
  }
}

async function viaBytes(buf: Buffer, sizes: () => number, readBytes: number): Promise<Outcome & { verbatimChecked?: number }> {
  try {
    const csv = await openCsvRecords(chunked(buf, sizes), {}, readBytes)
    const rows: string[][] = []
    let verbatimChecked = 0
    const delim = csv.dialect.delimiter
    let next = 1
    for await (const b of csv.batches) {
      expect(b.firstRow).toBe(next)
      next += b.n
      for (let r = 0; r < b.n; r++) {
        const row: string[] = []
        for (let i = 0; i < b.cols; i++) row.push(b.buf.toString('utf8', b.fs[r * b.cols + i], b.fe[r * b.cols + i]))
        rows.push(row)
        if (b.verbatim) {
          // A verbatim record is its fields joined by the delimiter, none holding a quote, CR or LF.
          expect(b.buf.toString('utf8', b.rs[r], b.re[r])).toBe(row.join(delim))
          for (const f of row) expect(f).not.toMatch(/["\r\n]/)
          verbatimChecked++
        }
      }
    }
    return { header: csv.header, rows, verbatimChecked }
  } catch (e) {
    if (e instanceof CsvError) return { error: e.rule, details: e.details }
    throw e
  }
}

const WORDS = ['a', 'abc', 'Zoë', '日本語', '12', '-3.5', '2025-01-01', 'x y', ' pad ', '', '', 'back\\slash', 'tab\there']

function randomFile(r: () => number, wantBytes: number): Buffer {
  const delim = [',', ';', '\t', '|'][Math.floor(r() * 4)]
  const nl = ['\n', '\r\n', '\r'][Math.floor(r() * 3)]
  const cols = 1 + Math.floor(r() * 6)
  const field = (): string => {
    const x = r()
    let w = WORDS[Math.floor(r() * WORDS.length)]
    if (delim === '\t') w = w.replace(/\t/g, ' ')
    if (x < 0.08) return `"${w}${delim}${w}"`
    if (x < 0.12) return `"${w}\n${w}"`
    if (x < 0.15) return `"say ""${w}"""`
    if (x < 0.17 && nl === '\n') return `${w}\r${w}` // a stray CR inside an LF file is data
    if (x < 0.19) return `x${w}"${w}` // a quote inside an unquoted field is data (5" screen)
    if (x < 0.2) return `\uFEFF${w}` // a U+FEFF inside the file is data
    return cols === 1 && w === '' ? 'v' : w
  }
  const quoted = r() < 0.5 // half the files have no quotes at all: the byte path only
  const plainField = () => {
    const w = WORDS[Math.floor(r() * WORDS.length)].replace(/\t/g, ' ')
    return cols === 1 && w.trim() === '' ? 'v' : w
  }
  let text = (r() < 0.2 ? '\uFEFF' : '') + Array.from({ length: cols }, (_, i) => `c${i + 1}`).join(delim) + nl
  while (text.length < wantBytes) {
    if (r() < 0.03) text += nl // blank line
    text += Array.from({ length: cols }, () => (quoted ? field() : plainField())).join(delim) + nl
  }
  if (r() < 0.3) text = text.slice(0, -nl.length) // no final line end
  return Buffer.from(text, 'utf8')
}

describe('openCsvRecords', () => {
  it('reads random files exactly as openCsv does', async () => {
    const r = rng(2025)
    let verbatim = 0
    for (let i = 0; i < 120; i++) {
      const buf = randomFile(r, i % 10 === 0 ? 150_000 : 200 + Math.floor(r() * 3000))
      const expected = await viaPapaparse(buf)
      const maxChunk = [1, 7, 100, 5000, 70_000][i % 5]
      const got = await viaBytes(buf, () => 1 + Math.floor(r() * maxChunk), [64, 1000, 256 * 1024][i % 3])
      verbatim += got.verbatimChecked ?? 0
      delete got.verbatimChecked
      expect(got, `file ${i}: ${JSON.stringify(buf.toString().slice(0, 120))}`).toEqual(expected)
    }
    expect(verbatim).toBeGreaterThan(1000)
  })

  it('reads records longer than a read, and stray quotes, across 1 MiB chunks as openCsv does', async () => {
    const rows: string[] = []
    for (let i = 0; i < 20_000; i++) rows.push(i === 9000 ? `${i},"${'y'.repeat(150_000)}","${'z'.repeat(150_000)}"` : i === 15_000 ? `${i},5" screen,x` : `${i},v${i},w`)
    const buf = Buffer.from('a,b,c\n' + rows.join('\n') + '\n')
    for (const chunk of [1 << 20, 100_000]) {
      const got = await viaBytes(buf, () => chunk, 256 * 1024)
      delete got.verbatimChecked
      expect(got).toEqual(await viaPapaparse(buf))
    }
  })

  it('fails as openCsv fails, with the same rule and details', async () => {
    const cases: (string | Buffer)[] = [
      '',
      '  \n\n',
      'a,b,c\n',
      '{"a": 1}',
      '<html><body>x</body></html>',
      Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x10]),
      Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0xff, 0xfe, 0x2c, 0x31, 0x0a]),
      'a,b,a\n1,2,3\n',
      'a,,c\n1,2,3\n',
      'a,b,c\n1,2,3\n4,5\n',
      'a,b,c\n1,2,3\n"4",5\n',
      'a,b,c\n' + '1,2,3\n'.repeat(50_000) + '4,5,6,7\n',
      'a:b:c\n1:2:3\n',
      'a,b\n1,"open\n2,3\n',
      `a,b\n1,${'x'.repeat(300 * 1024)}\n`,
      `a,b\n1,"${'x'.repeat(300 * 1024)}"\n`,
    ]
    for (const c of cases) {
      const buf = Buffer.isBuffer(c) ? c : Buffer.from(c)
      const expected = await viaPapaparse(buf)
      expect('error' in expected, JSON.stringify(c).slice(0, 60)).toBe(true)
      for (const size of buf.length < 10_000 ? [3, 4096] : [4096, 1 << 20]) expect(await viaBytes(buf, () => size, 1000), JSON.stringify(c).slice(0, 60)).toEqual(expected)
    }
  }, 120_000) // 16 files, two of them 300 KiB, each read twice: 23 s at load average 40, over the 30 s default in CI runs

  it('ends its source when the file fails, or when the reader stops early (the file is closed at once)', async () => {
    const ended: string[] = []
    async function* source(name: string, text: string) {
      try {
        for (let i = 0; i < text.length; i += 1000) yield Buffer.from(text.slice(i, i + 1000))
      } finally {
        ended.push(name)
      }
    }
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i},x`).join('\n')
    // In the header phase (binary data), and half-way (a ragged row after many good ones).
    await expect(openCsvRecords(source('binary', 'a,b\n1,\u0000\n' + rows(50_000)))).rejects.toMatchObject({ rule: 'binary' })
    const ragged = await openCsvRecords(source('ragged', `a,b\n${rows(20_000)}\n1,2,3\n${rows(50_000)}`), {}, 4096)
    await expect((async () => {
      for await (const b of ragged.batches) void b
    })()).rejects.toMatchObject({ rule: 'ragged_row' })
    // A reader that stops after the first batch.
    const early = await openCsvRecords(source('early', `a,b\n${rows(50_000)}`), {}, 4096)
    for await (const b of early.batches) if (b) break
    expect(ended).toEqual(['binary', 'ragged', 'early'])
  })

  it('rejects an unfinished record over the limit without holding the file', async () => {
    const e = await openCsvRecords(chunked(Buffer.from(`a,b\n1,"${'x'.repeat(300_000)}`), () => 10_000), { maxFieldChars: 1e9, maxRecordChars: 100_000 }, 1000)
      .then(async (csv) => {
        for await (const b of csv.batches) void b
      })
      .catch((x) => x)
    expect(e).toBeInstanceOf(CsvError)
    expect((e as CsvError).rule).toBe('record_too_long')
  })
})
