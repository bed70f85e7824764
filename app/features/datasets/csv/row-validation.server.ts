import { isInvalid, parseCell, type DataType, type Invalid } from '#app/features/templates/column-types.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import type { RecordBatch } from './csv-records.server.ts'
import { cellEncoder, defaultField, type ByteOut } from './silver-binary.server.ts'

/**
 * Checks a file's header and rows against a dataset's columns and turns them into COPY data for the
 * bronze (raw text, CSV) and silver (typed, valid rows only, binary) tables plus the per-row error report.
 *
 * Row numbers: 0 is the header; 1 is the first data record after it (blank lines are not counted).
 * A row is valid when every column gets a value of its type: the cell, else the column's default, else
 * NULL for an empty cell. Columns the template names but the file lacks make every row invalid unless
 * the template gives them a default.
 */

export interface HeaderIssue {
  column: string
  value: string | null
  rule: 'missing_column' | 'missing_column_defaulted' | 'extra_column' | 'renamed_column'
  message: string
}

export interface FilePlan {
  columns: ColumnSpec[]
  /** For each dataset column, the index of the file column holding it, or -1. */
  source: number[]
  header: string[]
  issues: HeaderIssue[]
  /** True when some column is missing without a default: no row can be valid. */
  fatal: boolean
  /** True when the header matches the template exactly (same columns, any order). */
  headerOk: boolean
}

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '')

export function planFile(header: string[], columns: ColumnSpec[]): FilePlan {
  const used = new Set<number>()
  const source = columns.map((c) => {
    let i = header.findIndex((h, j) => !used.has(j) && h === c.column_name)
    if (i < 0) i = header.findIndex((h, j) => !used.has(j) && h.toLowerCase() === c.column_name.toLowerCase())
    if (i < 0) i = header.findIndex((h, j) => !used.has(j) && squash(h) !== '' && squash(h) === squash(c.column_name))
    if (i >= 0) used.add(i)
    return i
  })
  const issues: HeaderIssue[] = []
  let fatal = false
  const extras = new Set(header.map((_, j) => j).filter((j) => !used.has(j)))
  columns.forEach((c, k) => {
    if (source[k] >= 0) return
    // Same position, different name: most likely renamed.
    const renamedFrom = extras.has(k) ? header[k] : null
    if (renamedFrom !== null) extras.delete(k)
    if (c.default_value !== null && renamedFrom === null) {
      issues.push({ column: c.column_name, value: null, rule: 'missing_column_defaulted', message: `Column '${c.column_name}' is missing; its default '${c.default_value}' was used` })
      return
    }
    if (renamedFrom !== null) {
      issues.push({
        column: c.column_name,
        value: renamedFrom,
        rule: 'renamed_column',
        message: `Column '${c.column_name}' is missing; column ${k + 1} is named '${renamedFrom}' instead (renamed?)${c.default_value !== null ? ` — its default '${c.default_value}' was used` : ''}`,
      })
    } else {
      issues.push({ column: c.column_name, value: null, rule: 'missing_column', message: `Column '${c.column_name}' is missing from the file` })
    }
    if (c.default_value === null) fatal = true
  })
  for (const j of extras) {
    issues.push({ column: header[j], value: header[j], rule: 'extra_column', message: `Column '${header[j]}' is not in the template; it was not loaded` })
  }
  return { columns, source, header, issues, fatal, headerOk: issues.length === 0 }
}

/** Columns for a file read without a template: every header column, with the given (inferred) types. */
export function planWithoutTemplate(header: string[], types: DataType[]): FilePlan {
  return {
    columns: header.map((h, i) => ({ column_name: h, data_type: types[i] ?? 'String', default_value: null })),
    source: header.map((_, i) => i),
    header,
    issues: [],
    fatal: false,
    headerOk: true,
  }
}

const ESC = /[\\\t\n\r]/
const ESC_ALL = /[\\\t\n\r]/g
const escChar = (c: string) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')
/** A value in COPY text format (tab-separated, \N for NULL). */
export const copyField = (v: string | null) => (v === null ? '\\N' : ESC.test(v) ? v.replace(ESC_ALL, escChar) : v)

export interface RowError {
  row: number
  column: string | null
  value: string | null
  rule: string
  message: string
}

export const MAX_REPORTED_VALUE = 200

/**
 * Which file columns bronze keeps, in COPY order. A file without extra columns keeps all of them in the file's
 * order (its records can be copied as they are); otherwise the dataset's columns the file has, in template order.
 */
export interface BronzeLayout {
  /** File column indexes, in COPY order. */
  fileColumns: number[]
  /** The dataset column each one is loaded into. */
  names: string[]
  /** Records may be copied byte for byte. */
  verbatim: boolean
}

export function bronzeLayout(plan: FilePlan): BronzeLayout {
  const { columns, source, header } = plan
  const byFile = header.map((_, j) => source.indexOf(j))
  if (byFile.every((k) => k >= 0)) return { fileColumns: header.map((_, j) => j), names: byFile.map((k) => columns[k].column_name), verbatim: true }
  const ks = columns.map((_, k) => k).filter((k) => source[k] >= 0)
  return { fileColumns: ks.map((k) => source[k]), names: ks.map((k) => columns[k].column_name), verbatim: false }
}

interface Compiled {
  encoders: ReturnType<typeof cellEncoder>[]
  /** False for String columns (kept as they are); true for the parsed types. */
  typed: boolean[]
  /** Each column's default as a binary COPY field (NULL when none). */
  defaults: Buffer[]
  /** Upper bound of a silver row's bytes besides its String cells' bytes. */
  silverFixed: number
  bronze: BronzeLayout
  /** `<file id><delimiter>`, which starts every bronze line. */
  bronzePrefix: Buffer
  /** The file id as a binary int8 field. */
  fileIdField: Buffer
  delim: number
}

function compile(plan: FilePlan, fileId: number, delimiter: string): Compiled {
  const { columns } = plan
  const defaults = columns.map((c) => defaultField(c.data_type, c.default_value))
  const fileIdField = Buffer.alloc(12)
  fileIdField.writeInt32BE(8, 0)
  fileIdField.writeBigInt64BE(BigInt(fileId), 4)
  return {
    encoders: columns.map((c) => cellEncoder(c.data_type)),
    typed: columns.map((c) => c.data_type !== 'String'),
    defaults,
    silverFixed: 2 + 24 + defaults.reduce((n, d) => n + Math.max(12, d.length), 0),
    bronze: bronzeLayout(plan),
    bronzePrefix: Buffer.from(`${fileId}${delimiter}`),
    fileIdField,
    delim: delimiter.charCodeAt(0),
  }
}

/** A typed cell that is only whitespace counts as empty (String.prototype.trim's whitespace). */
function isBlankTyped(b: Buffer, s: number, e: number): boolean {
  const c = b[s]
  if (c !== 32 && c !== 9) return false
  for (let i = s; i < e; i++) {
    const x = b[i]
    if (x === 32 || (x >= 9 && x <= 13)) continue
    return x >= 0x80 && b.toString('utf8', s, e).trim() === ''
  }
  return true
}

/** A bronze field as CSV: quoted (quotes doubled) when it holds the delimiter, a quote, CR or LF. */
function csvField(out: ByteOut, b: Buffer, s: number, e: number, delim: number) {
  let plain = true
  for (let i = s; i < e; i++) {
    const c = b[i]
    if (c === delim || c === 34 || c === 10 || c === 13) {
      plain = false
      break
    }
  }
  if (plain) return out.bytes(b, s, e)
  out.byte(34)
  for (let i = s; i < e; i++) {
    if (b[i] === 34) out.byte(34)
    out.byte(b[i])
  }
  out.byte(34)
}

/** Processes records into COPY data; keeps counts. One instance per file. */
export class RowProcessor {
  total = 0
  valid = 0
  errorCount = 0
  byRule: Record<string, number> = {}
  byColumn: Record<string, number> = {}
  /** The first errors, kept for the JSON summary. */
  sample: RowError[] = []

  constructor(
    readonly plan: FilePlan,
    readonly fileId: number,
    readonly opts: { tenantId?: string; sampleSize?: number; maxStoredErrors?: number; delimiter?: string } = {},
  ) {
    this.errorPrefix = `${opts.tenantId ?? ''}\t${fileId}`
  }

  /** Error-report COPY lines start with tenant id and file id. */
  private errorPrefix: string

  private storedErrors = 0

  /** Which columns bronze lines hold (the COPY column list follows it). */
  get bronze(): BronzeLayout {
    return this.compiled().bronze
  }

  /**
   * Appends a batch of records. Bronze (CSV, the file's delimiter): file id, row, valid, then the raw cells as
   * `bronze` lays them out. Silver (binary COPY): file id, row, then the typed values, valid rows only. Returns
   * the error-report lines (COPY text: tenant id, file id, row, column, value, rule, message).
   */
  processRecords(b: RecordBatch, bronze: ByteOut, silver: ByteOut): string {
    const { columns, source, fatal } = this.plan
    const n = columns.length
    const c = this.compiled()
    const { encoders, typed, defaults, delim, bronzePrefix, fileIdField } = c
    const verbatim = b.verbatim && c.bronze.verbatim
    const fileColumns = c.bronze.fileColumns
    const { buf, fs, fe, rs, re, cols } = b
    let errors = ''
    for (let r = 0; r < b.n; r++) {
      const rowNo = b.firstRow + r
      const base = r * cols
      const span = re[r] - rs[r]
      silver.ensure(c.silverFixed + span)
      const rowStart = silver.pos
      silver.i16(n + 2)
      silver.bytes(fileIdField, 0, 12)
      silver.i32(8)
      silver.i64(rowNo)
      let ok = !fatal
      for (let k = 0; k < n; k++) {
        const idx = source[k]
        if (idx < 0) {
          silver.bytes(defaults[k], 0, defaults[k].length)
          continue
        }
        const s = fs[base + idx]
        const e = fe[base + idx]
        if (s === e || (typed[k] && isBlankTyped(buf, s, e))) {
          silver.bytes(defaults[k], 0, defaults[k].length)
          continue
        }
        const bad = encoders[k](buf, s, e, silver)
        if (bad) {
          ok = false
          errors += this.recordError(rowNo, columns[k], buf.toString('utf8', s, e), bad)
        }
      }
      if (!ok) silver.pos = rowStart
      bronze.ensure(48 + 2 * span + 3 * cols)
      bronze.bytes(bronzePrefix, 0, bronzePrefix.length)
      bronze.decimal(rowNo)
      bronze.byte(delim)
      bronze.byte(ok ? 116 : 102)
      if (verbatim) {
        if (cols) bronze.byte(delim)
        bronze.bytes(buf, rs[r], re[r])
      } else {
        for (let j = 0; j < fileColumns.length; j++) {
          bronze.byte(delim)
          csvField(bronze, buf, fs[base + fileColumns[j]], fe[base + fileColumns[j]], delim)
        }
      }
      bronze.byte(10)
      this.total++
      if (ok) this.valid++
    }
    return errors
  }

  private compiledPlan?: Compiled
  private compiled(): Compiled {
    return (this.compiledPlan ??= compile(this.plan, this.fileId, this.opts.delimiter ?? ','))
  }

  private recordError(rowNo: number, col: ColumnSpec, raw: string, p: Invalid): string {
    this.errorCount++
    this.byRule[p.rule] = (this.byRule[p.rule] ?? 0) + 1
    this.byColumn[col.column_name] = (this.byColumn[col.column_name] ?? 0) + 1
    const shown = raw.length > MAX_REPORTED_VALUE ? raw.slice(0, MAX_REPORTED_VALUE) + '…' : raw
    const message = `'${col.column_name}' ${p.message} (${col.data_type})`
    if (this.sample.length < (this.opts.sampleSize ?? 100)) this.sample.push({ row: rowNo, column: col.column_name, value: shown, rule: p.rule, message })
    if (this.storedErrors >= (this.opts.maxStoredErrors ?? 1_000_000)) return ''
    this.storedErrors++
    return `${this.errorPrefix}\t${rowNo}\t${copyField(col.column_name)}\t${copyField(shown)}\t${p.rule}\t${copyField(message)}\n`
  }

  /** The counters, to carry them between threads. */
  counts(): ProcessorCounts {
    const { total, valid, errorCount, byRule, byColumn, sample, storedErrors } = this
    return { total, valid, errorCount, byRule, byColumn, sample, storedErrors }
  }

  /** Takes the counters of a processor that ran elsewhere (a pool thread) on the same plan. */
  restore(c: ProcessorCounts) {
    Object.assign(this, c)
  }

  /** Header issues as error-report lines (row 0). */
  headerErrorLines(): string {
    let out = ''
    for (const h of this.plan.issues) {
      out += `${this.errorPrefix}\t0\t${copyField(h.column)}\t${copyField(h.value)}\t${h.rule}\t${copyField(h.message)}\n`
    }
    return out
  }

  /** The file's `error_report`: null when nothing is wrong, else counts, header issues and the first errors. */
  summary(): ErrorReportSummary | null {
    if (!this.errorCount && !this.plan.issues.length && this.valid === this.total) return null
    return {
      invalid_rows: this.total - this.valid,
      error_count: this.errorCount,
      header: this.plan.issues,
      by_rule: this.byRule,
      by_column: this.byColumn,
      errors: this.sample,
      truncated: this.errorCount > this.sample.length,
    }
  }
}

export interface ProcessorCounts {
  total: number
  valid: number
  errorCount: number
  byRule: Record<string, number>
  byColumn: Record<string, number>
  sample: RowError[]
  storedErrors: number
}

export interface ErrorReportSummary {
  invalid_rows: number
  error_count: number
  header: HeaderIssue[]
  by_rule: Record<string, number>
  by_column: Record<string, number>
  errors: RowError[]
  truncated: boolean
}

/** Infers column types from values: the narrowest of Boolean, Integer, Float, Date, DateTime that fits every non-empty cell. */
export class TypeInferer {
  private candidates: Set<DataType>[]
  private seen: number[]
  constructor(readonly header: string[]) {
    this.candidates = header.map(() => new Set<DataType>(['Boolean', 'Integer', 'Float', 'Date', 'DateTime']))
    this.seen = header.map(() => 0)
  }
  observe(rows: string[][]) {
    for (const row of rows) {
      for (let i = 0; i < this.candidates.length; i++) {
        const c = this.candidates[i]
        if (!c.size) continue
        const v = row[i]
        if (v === undefined || v.trim() === '') continue
        this.seen[i]++
        for (const t of c) if (isInvalid(parseCell(t, v)) || (t === 'Boolean' && /^\s*[01]\s*$/.test(v))) c.delete(t)
      }
    }
  }
  types(): DataType[] {
    const order: DataType[] = ['Boolean', 'Integer', 'Float', 'Date', 'DateTime']
    return this.candidates.map((c, i) => (this.seen[i] === 0 ? 'String' : (order.find((t) => c.has(t)) ?? 'String')))
  }
}
