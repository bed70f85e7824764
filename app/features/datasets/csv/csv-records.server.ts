import { isUtf8 } from 'node:buffer'
import { CsvError, DEFAULT_LIMITS, detectDialect, noRows, RecordChecker, recordEnd, type CsvLimits, type Dialect } from './csv.server.ts'

/**
 * The upload's CSV reader: bytes in, batches of records out as field offsets into a byte buffer, so that
 * validation and COPY encoding never build a string per cell. Stretches of the file without a quote
 * character (most machine-written CSV) are split here byte by byte; any stretch with a quote goes through
 * papaparse (`RecordChecker.parse`), exactly as `openCsv` reads it. Both paths apply the same rules
 * (RecordChecker): header, blank records, ragged rows, field and record limits, BOM, CR/LF/CRLF, UTF-8,
 * NUL bytes. The memory held is one working buffer: a read from the source (up to 1 MiB) plus one unfinished
 * record, kept at the largest size the file needed (records are limited by maxRecordChars).
 *
 * The differential test (csv-records.test.ts) reads random files with both readers and compares rows and errors.
 */

export interface RecordBatch {
  /** The bytes the offsets point into. Valid until the next batch is requested. */
  buf: Buffer
  /** Records in this batch. */
  n: number
  /** Fields per record (the header's width). */
  cols: number
  /** Field i of record r spans buf[fs[r*cols+i], fe[r*cols+i]). */
  fs: Int32Array
  fe: Int32Array
  /** Record r spans buf[rs[r], re[r]) (terminator excluded): meaningful when `verbatim`. */
  rs: Int32Array
  re: Int32Array
  /** Record number of the first record: 1 is the first record after the header. */
  firstRow: number
  /**
   * Every record is its fields joined by the delimiter, no field quoted or holding a quote, CR or LF: the record's
   * bytes are a valid CSV line as they are.
   */
  verbatim: boolean
}

export interface CsvRecords {
  header: string[]
  dialect: Dialect
  batches: AsyncGenerator<RecordBatch>
}

const READ_BYTES = 256 * 1024
const SNIFF_BYTES = 64 * 1024
const EMPTY = Buffer.alloc(0)
const QUOTE = 0x22

const notUtf8 = () => new CsvError('not_utf8', 'The file is not UTF-8 text; save it as CSV (UTF-8) and upload again')
const binary = () => new CsvError('binary', 'The file is binary, not CSV text (it contains NUL bytes)')

function decode(b: Buffer, stream = false): string {
  try {
    // ignoreBOM: a U+FEFF inside the file is data (the file's own BOM is stripped as bytes, in fill).
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b, { stream })
  } catch {
    throw notUtf8()
  }
}

/** Whitespace as String.prototype.trim sees it, for a record without delimiters (blank records are skipped). */
function isBlankBytes(buf: Buffer, s: number, e: number): boolean {
  let high = false
  for (let i = s; i < e; i++) {
    const c = buf[i]
    if (c === 32 || (c >= 9 && c <= 13)) continue
    if (c < 0x80) return false
    high = true
  }
  return !high || buf.toString('utf8', s, e).trim() === ''
}

/**
 * The delimiters of one record, buf[from, to): field k < cols ends at fe[base + k] (its start in fs), except the last
 * field, whose end the caller sets. Returns the number of delimiters. (A function of its own: its locals stay in
 * registers; this loop sees every byte of the file.)
 */
function splitFields(buf: Buffer, from: number, to: number, delim: number, fs: Int32Array, fe: Int32Array, base: number, cols: number): number {
  let f = 0
  let start = from
  for (let i = from; i < to; i++) {
    if (buf[i] === delim) {
      if (f < cols) {
        fs[base + f] = start
        fe[base + f] = i
      }
      f++
      start = i + 1
    }
  }
  return f
}

/** `readBytes`: how much is read before each split (tests make it small to cut records everywhere). */
export async function openCsvRecords(source: AsyncIterable<Uint8Array>, limits: Partial<CsvLimits> = {}, readBytes = READ_BYTES): Promise<CsvRecords> {
  const it = source[Symbol.asyncIterator]()
  // A file that fails (or a reader that stops early) leaves its source unfinished: end it, so a file is closed now
  // rather than whenever its handle is collected.
  const close = () => Promise.resolve(it.return?.()).then(
    () => {},
    () => {},
  )
  let csv: CsvRecords
  try {
    csv = await readRecords(it, limits, readBytes)
  } catch (e) {
    await close()
    throw e
  }
  async function* batches(): AsyncGenerator<RecordBatch> {
    let done = false
    try {
      yield* csv.batches
      done = true
    } finally {
      if (!done) await close()
    }
  }
  return { ...csv, batches: batches() }
}

async function readRecords(it: AsyncIterator<Uint8Array>, limits: Partial<CsvLimits>, readBytes: number): Promise<CsvRecords> {
  const lim = { ...DEFAULT_LIMITS, ...limits }
  let data: Buffer = EMPTY
  let ended = false
  let bomChecked = false

  /**
   * `data` lives in `work`, one buffer reused for the whole file: each read is copied in behind what is left of
   * the previous ones (moved to the front first), so reading allocates nothing per chunk, and the source may reuse
   * its chunk once the next is asked for. (A fresh Buffer.concat per read was most of this reader's garbage, and
   * V8 collects external memory with extra scavenges and mark-compacts: measured with --trace-gc.)
   */
  let work = Buffer.allocUnsafeSlow(0)
  /** Reads until `data` holds at least `min` bytes or the source ends. */
  async function fill(min: number) {
    while (data.length < min && !ended) {
      const n = await it.next()
      if (n.done) {
        ended = true
        break
      }
      const c = Buffer.isBuffer(n.value) ? n.value : Buffer.from(n.value.buffer, n.value.byteOffset, n.value.byteLength)
      if (c.indexOf(0) !== -1) throw binary()
      const keep = data.length
      if (keep + c.length > work.length) {
        const next = Buffer.allocUnsafeSlow(Math.max(2 * work.length, keep + c.length, 2 * readBytes))
        data.copy(next, 0)
        work = next
      } else if (keep && data.byteOffset !== work.byteOffset) {
        work.copyWithin(0, data.byteOffset - work.byteOffset, data.byteOffset - work.byteOffset + keep)
      }
      c.copy(work, keep)
      data = work.subarray(0, keep + c.length)
    }
    if (!bomChecked && (data.length >= 6 || ended)) {
      bomChecked = true
      // Up to two, as openCsv (its decoder drops one, then it drops one more).
      for (let k = 0; k < 2 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf; k++) data = data.subarray(3)
    }
  }

  await fill(Math.max(SNIFF_BYTES, readBytes))
  // The head up to its last whole character (a multi-byte character may be cut at the end).
  const dialect = detectDialect(decode(data, !ended))
  const checker = new RecordChecker(lim, dialect)
  const delim = dialect.delimiter.charCodeAt(0)
  const sep = dialect.parserNewline === '\n' ? 10 : 13
  const other = sep === 10 ? 13 : 10

  // Scratch offsets, reused by every batch (a batch is valid until the next is requested).
  let fs = new Int32Array(0)
  let fe = new Int32Array(0)
  let rs = new Int32Array(0)
  let re = new Int32Array(0)
  function room(records: number, cols: number) {
    if (rs.length < records) {
      rs = new Int32Array(records)
      re = new Int32Array(records)
    }
    if (fs.length < records * cols) {
      fs = new Int32Array(records * cols)
      fe = new Int32Array(records * cols)
    }
  }

  /** Quote-free records of data[0, end): split here. */
  function fast(end: number): RecordBatch {
    const buf = data
    if (!isUtf8(buf.subarray(0, end))) throw notUtf8()
    const cols = checker.expected
    const firstRow = checker.recordNo + 1
    // A record takes at least `cols` bytes (its delimiters and terminator); blank ones at least one.
    room(Math.ceil(end / Math.max(1, cols)) + 1, cols)
    const maxField = lim.maxFieldChars
    let n = 0
    let verbatim = true
    let pos = 0
    // The next CR (LF files) or LF (CR files) at or after a record's start: inside a record it is data, and the
    // record can no longer be copied as it is.
    let nextOther = buf.indexOf(other)
    while (pos < end) {
      const start = pos
      const base = n * cols
      // The record's end by memchr, then only delimiters to look for in between.
      let stop = buf.indexOf(sep, pos)
      if (stop === -1 || stop >= end) stop = end
      const f = splitFields(buf, pos, stop, delim, fs, fe, base, cols)
      const fstart = f === 0 ? pos : fe[base + Math.min(f, cols) - 1] + 1
      pos = stop < end ? stop + 1 : end
      let last = stop
      // An LF record may end in CR (CRLF files): the CR is not data.
      if (sep === 10 && last > fstart && buf[last - 1] === 13) last--
      if (nextOther !== -1 && nextOther < start) nextOther = buf.indexOf(other, start)
      const stray = nextOther !== -1 && nextOther < last
      if (f === 0 && isBlankBytes(buf, start, last)) continue
      if (f < cols) {
        fs[base + f] = fstart
        fe[base + f] = last
      }
      if (last - start > maxField) {
        for (let i = 0; i < Math.min(f + 1, cols); i++) {
          const len = fe[base + i] - fs[base + i]
          if (len > maxField) {
            const chars = buf.toString('utf8', fs[base + i], fe[base + i]).length
            if (chars > maxField) throw checker.fieldTooLong(i, chars)
          }
        }
      }
      checker.recordNo++
      if (f + 1 !== cols) throw checker.ragged(f + 1)
      if (stray) verbatim = false
      rs[n] = start
      re[n] = last
      n++
    }
    data = data.subarray(end)
    return { buf, n, cols, fs, fe, rs, re, firstRow, verbatim }
  }

  /** Records from the start of data through papaparse (a quote, or the header); 'more' when none is complete yet. */
  function slow(end: number): RecordBatch | 'more' {
    // Cut after the last line end outside quotes: papaparse reports a quote still open at the end of its input as
    // unclosed even when more input follows.
    const textEnd = ended && end === data.length ? end : recordEnd((i) => data[i], end, sep, delim, true)
    if (textEnd === 0) return 'more'
    const text = decode(data.subarray(0, textEnd))
    let r: ReturnType<RecordChecker['parse']>
    try {
      r = checker.parse(text, ended && textEnd === data.length)
    } catch (e) {
      // A quote inside an unquoted field miscounted the parity: read on (the limits still apply).
      if (e instanceof CsvError && e.rule === 'unclosed_quote' && !(ended && textEnd === data.length)) return 'more'
      throw e
    }
    const cursor = ended && textEnd === data.length ? text.length : r.meta.cursor
    if (text.length - cursor > lim.maxRecordChars) throw checker.recordTooLong()
    // Nothing complete yet: read more (at the end of the file papaparse has taken everything).
    if (cursor === 0 && !(ended && textEnd === data.length)) return 'more'
    const parsed = cursor === text.length ? text : text.slice(0, cursor)
    const before = checker.recordNo
    const rows = checker.check(r.data, parsed.length > lim.maxFieldChars, parsed.indexOf('\r') !== -1)
    data = data.subarray(cursor === text.length ? textEnd : Buffer.byteLength(parsed))
    return fromRows(rows, before + 1)
  }

  /** Rows already split into strings, as a batch over a buffer of their own. */
  function fromRows(rows: string[][], firstRow: number): RecordBatch {
    const cols = checker.expected
    let chars = 0
    for (const row of rows) for (const v of row) chars += v.length
    const buf = Buffer.allocUnsafe(chars * 3)
    room(rows.length, cols)
    let pos = 0
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]
      rs[r] = pos
      for (let i = 0; i < cols; i++) {
        fs[r * cols + i] = pos
        pos += buf.write(row[i], pos)
        fe[r * cols + i] = pos
      }
      re[r] = pos
    }
    return { buf, n: rows.length, cols, fs, fe, rs, re, firstRow, verbatim: false }
  }

  let want = readBytes
  /** The next batch with records, or null at the end of the file. */
  async function next(): Promise<RecordBatch | null> {
    for (;;) {
      if (!ended && data.length < want) await fill(want)
      if (!data.length) return null
      // Split at most about `want` bytes at a time: batches (and what they turn into) stay small.
      const end = ended && data.length <= want ? data.length : data.lastIndexOf(sep, Math.min(data.length, want) - 1) + 1
      let b: RecordBatch | 'more'
      if (end === 0) b = 'more'
      else if (!checker.header) b = slow(end)
      else {
        const q = data.indexOf(QUOTE)
        const fastEnd = q === -1 || q >= end ? end : data.lastIndexOf(sep, q) + 1
        b = fastEnd > 0 ? fast(fastEnd) : slow(end)
      }
      if (b === 'more') {
        // A record longer than what is read so far: read twice as much (re-reading it each time would be quadratic).
        // Only an unfinished record counts against the limit: a complete one longer than a read is read whole.
        if (!ended && data.length > lim.maxRecordChars && recordEnd((i) => data[i], data.length, sep, delim, false) === 0) {
          if (decode(data, true).length > lim.maxRecordChars) throw checker.recordTooLong()
        }
        want = data.length * 2
        continue
      }
      want = readBytes
      if (b.n) return b
    }
  }

  // Up to the header, so the caller can plan before any row is processed.
  let first: RecordBatch | null = null
  while (!checker.header) {
    first = await next()
    if (!first && !checker.header) throw new CsvError('empty', 'The file is empty')
  }
  // The first batch's offsets live in the scratch arrays: keep a copy until it is yielded.
  const held = first && { ...first, fs: first.fs.slice(0, first.n * first.cols), fe: first.fe.slice(0, first.n * first.cols), rs: first.rs.slice(0, first.n), re: first.re.slice(0, first.n) }

  async function* batches(): AsyncGenerator<RecordBatch> {
    if (held) yield held
    for (let b = await next(); b; b = await next()) yield b
    if (checker.recordNo === 0) throw noRows()
  }
  return { header: checker.header!, dialect, batches: batches() }
}
