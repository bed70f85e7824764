import Papa from 'papaparse'

/**
 * A streaming CSV reader on papaparse's core parser: bytes in, batches of records out, never the
 * whole file in memory (only the current chunk and one unfinished record). Handles a UTF-8 BOM,
 * CRLF/LF/CR line ends, quoted fields with delimiters and line breaks, `;`/tab/`|` delimiters
 * (sniffed from the first 64 KiB) and blank lines. Anything that is not delimited text fails with a
 * CsvError saying why.
 *
 * `openCsv` yields rows of strings (type inference reads it). Uploads read with csv-records.server.ts, which shares
 * the dialect detection and RecordChecker here and goes through papaparse for anything quoted.
 */

export class CsvError extends Error {
  constructor(
    readonly rule: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

export interface CsvLimits {
  /** Longest field accepted, in characters. */
  maxFieldChars: number
  /** Longest unfinished record held while reading (an unclosed quote would otherwise swallow the file). */
  maxRecordChars: number
  /** Records per yielded batch. */
  batchRows: number
}

export const DEFAULT_LIMITS: CsvLimits = { maxFieldChars: 256 * 1024, maxRecordChars: 1024 * 1024, batchRows: 5000 }
const SNIFF_CHARS = 64 * 1024
const DELIMITERS = [',', ';', '\t', '|'] as const

export interface CsvBatch {
  /** Data records, each an array of raw field strings. */
  rows: string[][]
  /** Record number of rows[0]: 1 is the first record after the header. */
  firstRow: number
}

export interface OpenCsv {
  header: string[]
  delimiter: string
  newline: '\n' | '\r\n' | '\r'
  batches: AsyncGenerator<CsvBatch>
}

async function* decodeUtf8(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let first = true
  try {
    for await (const chunk of source) {
      if (typeof chunk !== 'string' && chunk.indexOf(0) !== -1) throw new CsvError('binary', 'The file is binary, not CSV text (it contains NUL bytes)')
      let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
      if (first && text.length) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
        first = false
      }
      if (text.indexOf('\u0000') !== -1) throw new CsvError('binary', 'The file is binary, not CSV text (it contains NUL bytes)')
      if (text) yield text
    }
    const tail = decoder.decode()
    if (tail) yield tail
  } catch (e) {
    if (e instanceof TypeError) throw new CsvError('not_utf8', 'The file is not UTF-8 text; save it as CSV (UTF-8) and upload again')
    throw e
  }
}

/** Splits up to `maxRecords` records honouring quotes, to count delimiter candidates per record. */
function sampleRecords(text: string, maxRecords: number): string[] {
  const out: string[] = []
  let start = 0
  let inQuotes = false
  for (let i = 0; i < text.length && out.length < maxRecords; i++) {
    const c = text[i]
    if (c === '"') inQuotes = !inQuotes
    else if (!inQuotes && (c === '\n' || c === '\r')) {
      const rec = text.slice(start, i)
      if (rec.trim()) out.push(rec)
      if (c === '\r' && text[i + 1] === '\n') i++
      start = i + 1
    }
  }
  return out
}

function countOutsideQuotes(record: string, delim: string) {
  let n = 0
  let inQuotes = false
  for (let i = 0; i < record.length; i++) {
    const c = record[i]
    if (c === '"') inQuotes = !inQuotes
    else if (!inQuotes && c === delim) n++
  }
  return n
}

/** The delimiter whose count in the header is non-zero and repeats on the most sampled records. */
export function sniffDelimiter(head: string): string {
  const recs = sampleRecords(head, 20)
  if (!recs.length) return ','
  let best = ','
  let bestScore = -1
  for (const d of DELIMITERS) {
    const n = countOutsideQuotes(recs[0], d)
    if (n === 0) continue
    const consistent = recs.filter((r) => countOutsideQuotes(r, d) === n).length
    const score = consistent * 1000 + n
    if (score > bestScore) {
      best = d
      bestScore = score
    }
  }
  return best
}

export function sniffNewline(head: string): '\n' | '\r\n' | '\r' {
  let inQuotes = false
  for (let i = 0; i < head.length; i++) {
    const c = head[i]
    if (c === '"') inQuotes = !inQuotes
    else if (!inQuotes && c === '\n') return '\n'
    else if (!inQuotes && c === '\r') return head[i + 1] === '\n' ? '\r\n' : '\r'
  }
  return '\n'
}

/**
 * Record ends outside quotes in [0, end) of a text (`at` gives the code of position i: a byte or a UTF-16 unit), read
 * as papaparse reads quotes: a quote opens a quoted field only at the start of a field, `""` inside one is a quote,
 * and any other quote is data. Returns one past the last record end (`last`) or the first (`!last`), 0 when none.
 * Papaparse is only ever given whole records: at the end of an input it may call a quote closed just before a
 * CR or a space malformed, or a quote still open unclosed, though more input follows.
 */
export function recordEnd(at: (i: number) => number, end: number, sep: number, delim: number, last: boolean): number {
  let cut = 0
  let fieldStart = true
  let quoted = false
  for (let i = 0; i < end; i++) {
    const c = at(i)
    if (quoted) {
      if (c === 34) {
        if (i + 1 < end && at(i + 1) === 34) i++
        else quoted = false
      }
      continue
    }
    if (c === sep) {
      cut = i + 1
      if (!last) return cut
      fieldStart = true
    } else if (c === delim) fieldStart = true
    else {
      if (c === 34 && fieldStart) quoted = true
      fieldStart = false
    }
  }
  return cut
}

const isBlank = (row: string[]) => row.length === 1 && row[0].trim() === ''

export interface Dialect {
  delimiter: string
  newline: '\n' | '\r\n' | '\r'
  /** What the parser splits records on: lone-CR files are read as such; LF files may carry a stray CR before the LF, which is stripped. */
  parserNewline: '\n' | '\r'
}

/** The dialect of a file from its first characters; throws CsvError for an empty file or JSON/XML/HTML. */
export function detectDialect(head: string): Dialect {
  if (!head.trim()) throw new CsvError('empty', 'The file is empty')
  const first = head.trimStart()[0]
  if (first === '{' || first === '[' || first === '<') {
    const kind = first === '<' ? 'XML/HTML' : 'JSON'
    throw new CsvError('not_csv', `The file looks like ${kind}, not CSV`)
  }
  const newline = sniffNewline(head)
  return { delimiter: sniffDelimiter(head), newline, parserNewline: newline === '\r' ? '\r' : '\n' }
}

/**
 * The rules every record passes, whichever parser split it: the header (names present and unique), blank
 * records skipped, every record as wide as the header, fields within the limits. Counts the data records.
 */
export class RecordChecker {
  header: string[] | null = null
  /** Data records seen (header excluded). */
  recordNo = 0
  expected = 0
  constructor(
    readonly lim: CsvLimits,
    readonly dialect: Dialect,
  ) {}

  /** papaparse over `input`; `last` when no more text follows (else the unfinished last record is left). */
  parse(input: string, last: boolean) {
    const { delimiter, parserNewline } = this.dialect
    const r = new Papa.Parser({ delimiter, newline: parserNewline, quoteChar: '"' }).parse(input, 0, !last) as Papa.ParseResult<string[]>
    const bad = r.errors.find((e) => e.type === 'Quotes')
    if (bad) {
      throw new CsvError(
        bad.code === 'MissingQuotes' ? 'unclosed_quote' : 'malformed_quotes',
        bad.code === 'MissingQuotes' ? `A quoted field is never closed (after row ${this.recordNo})` : `Malformed quotes near row ${this.recordNo + 1}`,
        { row: this.recordNo + 1 },
      )
    }
    return r
  }

  fieldTooLong(i: number, length: number): CsvError {
    const where = this.header ? `row ${this.recordNo + 1}, column '${this.header[i] ?? i + 1}'` : `header column ${i + 1}`
    return new CsvError('field_too_long', `A field is longer than ${this.lim.maxFieldChars} characters (${where})`, {
      row: this.header ? this.recordNo + 1 : 0,
      length,
    })
  }

  /** For a data record of `fields` fields that is not as wide as the header (recordNo already counts it). */
  ragged(fields: number): CsvError {
    const { recordNo, expected } = this
    return new CsvError(
      'ragged_row',
      `Row ${recordNo} has ${fields} field${fields === 1 ? '' : 's'}, the header has ${expected} (check the delimiter and quotes)`,
      { row: recordNo, fields, expected },
    )
  }

  recordTooLong(): CsvError {
    return new CsvError('record_too_long', `A record is longer than ${this.lim.maxRecordChars} characters (unclosed quote?) after row ${this.recordNo}`, {
      row: this.recordNo + 1,
    })
  }

  setHeader(row: string[]) {
    const header = row.map((h) => h.trim())
    const seen = new Map<string, number>()
    header.forEach((h, i) => {
      if (!h) throw new CsvError('empty_header', `Header column ${i + 1} has no name`, { column: i + 1 })
      const k = h.toLowerCase()
      if (seen.has(k)) {
        throw new CsvError('duplicate_header', `The header names '${h}' twice (columns ${seen.get(k)! + 1} and ${i + 1})`, {
          column: h,
        })
      }
      seen.set(k, i)
    })
    if (header.length === 1 && /[:^~]/.test(header[0])) {
      throw new CsvError('unknown_delimiter', `Could not find the delimiter: the header is one column ('${header[0].slice(0, 80)}'). Use , ; tab or |`)
    }
    this.header = header
    this.expected = header.length
  }

  /** `longFields`: some field may exceed maxFieldChars; `crs`: the text holds a CR that may end a field. */
  check(rows: string[][], longFields = true, crs = true): string[][] {
    const out: string[][] = []
    for (const row of rows) {
      if (crs && this.dialect.parserNewline === '\n') {
        const last = row.length - 1
        const v = row[last]
        if (v.length && v.charCodeAt(v.length - 1) === 13) row[last] = v.slice(0, -1)
      }
      if (isBlank(row)) continue
      if (longFields) for (let i = 0; i < row.length; i++) if (row[i].length > this.lim.maxFieldChars) throw this.fieldTooLong(i, row[i].length)
      if (!this.header) {
        this.setHeader(row)
        continue
      }
      this.recordNo++
      if (row.length !== this.expected) throw this.ragged(row.length)
      out.push(row)
    }
    return out
  }
}

/**
 * Reads the header, then yields the records in batches. Throws CsvError for: empty file, no data rows,
 * binary or non-UTF-8 content, JSON/XML/HTML, duplicate or empty header names, unclosed or malformed
 * quotes, a field or record over the limits, and rows whose field count differs from the header's.
 */
export async function openCsv(source: AsyncIterable<Uint8Array | string>, limits: Partial<CsvLimits> = {}): Promise<OpenCsv> {
  const lim = { ...DEFAULT_LIMITS, ...limits }
  const text = decodeUtf8(source)
  // Read enough to sniff the dialect (and to see the header).
  let head = ''
  let ended = false
  while (head.length < SNIFF_CHARS) {
    const n = await text.next()
    if (n.done) {
      ended = true
      break
    }
    head += n.value
  }
  const dialect = detectDialect(head)
  const { delimiter, newline } = dialect
  const sepCode = dialect.parserNewline.charCodeAt(0)
  const delimCode = delimiter.charCodeAt(0)
  const checker = new RecordChecker(lim, dialect)

  async function* chunks(): AsyncGenerator<string> {
    if (head) yield head
    head = ''
    if (ended) return
    for await (const t of text) yield t
  }

  // Read up to the header so the caller can plan before any row is processed.
  const iter = chunks()
  let partial = ''
  let pending: string[][] = []
  let done = false
  async function pump(): Promise<boolean> {
    // Gather at least 64 KiB, and at least as much as the unfinished record, before parsing again:
    // re-parsing a long record on every small chunk would be quadratic.
    let fresh = ''
    let n = await iter.next()
    while (!n.done) {
      fresh += n.value
      if (fresh.length >= Math.max(SNIFF_CHARS, partial.length)) break
      n = await iter.next()
    }
    if (n.done && !fresh) {
      done = true
      if (partial) {
        for (const row of checker.check(checker.parse(partial, true).data)) pending.push(row)
      }
      partial = ''
      return false
    }
    const all = partial + fresh
    // Only whole records go to papaparse (see recordEnd); the rest waits for more text.
    const cut = recordEnd((i) => all.charCodeAt(i), all.length, sepCode, delimCode, true)
    if (cut === 0) {
      partial = all
      if (partial.length > lim.maxRecordChars) throw checker.recordTooLong()
      return true
    }
    const agg = cut === all.length ? all : all.slice(0, cut)
    const r = checker.parse(agg, false)
    const parsed = r.meta.cursor === agg.length ? agg : agg.slice(0, r.meta.cursor)
    partial = agg.slice(r.meta.cursor) + all.slice(cut)
    if (partial.length > lim.maxRecordChars) throw checker.recordTooLong()
    const rows = checker.check(r.data, parsed.length > lim.maxFieldChars, parsed.indexOf('\r') !== -1)
    for (const row of rows) pending.push(row)
    return true
  }

  while (!checker.header && !done) await pump()
  if (!checker.header) throw new CsvError('empty', 'The file is empty')
  const hdr: string[] = checker.header

  async function* batches(): AsyncGenerator<CsvBatch> {
    let nextRow = 1
    for (;;) {
      while (pending.length < lim.batchRows && !done) await pump()
      if (!pending.length) break
      const rows = pending.length > lim.batchRows ? pending.splice(0, lim.batchRows) : pending
      if (rows === pending) pending = []
      yield { rows, firstRow: nextRow }
      nextRow += rows.length
    }
    if (nextRow === 1) throw noRows()
  }
  return { header: hdr, delimiter, newline, batches: batches() }
}

export const noRows = () => new CsvError('no_rows', 'The file has a header but no data rows')

/** Async-iterates a web ReadableStream, a Node stream or a Buffer. */
export async function* bytesOf(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Buffer): AsyncGenerator<Uint8Array> {
  if (Buffer.isBuffer(body)) {
    yield body
    return
  }
  yield* body as AsyncIterable<Uint8Array>
}
