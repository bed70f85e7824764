import { cellParser, isInvalid, parseCell, type DataType, type Invalid } from '#app/features/templates/column-types.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'

/**
 * Checks a file's header and rows against a dataset's columns and turns them into COPY text for the
 * bronze (raw text) and silver (typed, valid rows only) tables plus the per-row error report.
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

interface Compiled {
  parsers: ((raw: string) => string | Invalid)[]
  /** False for String columns (kept as they are, escaped for COPY); true for the parsed types. */
  typed: boolean[]
  /** Each column's default as a COPY field (\\N when none). */
  defaults: string[]
  /** The file's columns are the dataset's columns, in the same order. */
  identity: boolean
  /** One row's silver fields, reused. */
  vals: string[]
}

function compile(plan: FilePlan): Compiled {
  const { columns, source, header } = plan
  return {
    parsers: columns.map((c) => cellParser(c.data_type)),
    typed: columns.map((c) => c.data_type !== 'String'),
    defaults: columns.map((c) => (c.default_value === null ? '\\N' : copyField(parseCell(c.data_type, c.default_value) as string))),
    identity: header.length === columns.length && source.every((s, k) => s === k),
    vals: columns.map(() => '\\N'),
  }
}

/** emptyCell for a non-String cell that is not '' (whitespace-only counts as empty). */
const isBlankTyped = (raw: string) => {
  const c = raw.charCodeAt(0)
  return (c === 32 || c === 9) && raw.trim() === ''
}

/** Processes rows into COPY text; keeps counts. One instance per file. */
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
    readonly opts: { tenantId?: string; sampleSize?: number; maxStoredErrors?: number } = {},
  ) {
    this.errorPrefix = `${opts.tenantId ?? ''}\t${fileId}`
  }

  /** Error-report COPY lines start with tenant id and file id. */
  private errorPrefix: string

  private storedErrors = 0

  /**
   * Appends the COPY lines of a batch to the three outputs. Bronze: file id, row, valid, then the raw
   * cells. Silver: file id, row, then typed values (valid rows only). Errors: tenant id, file id, row, column,
   * value, rule, message.
   */
  processBatch(rows: string[][], firstRow: number, plain = false): { bronze: string; silver: string; errors: string } {
    const { columns, source, fatal } = this.plan
    const n = columns.length
    const c = (this.compiled ??= compile(this.plan))
    const { parsers, typed, defaults } = c
    const vals = c.vals
    // A plain batch whose file columns are exactly the dataset's, in order: the bronze cells are the row joined.
    const joinRaw = plain && c.identity
    let bronze = ''
    let silver = ''
    let errors = ''
    const prefix = `${this.fileId}\t`
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]
      const rowNo = firstRow + r
      let ok = !fatal
      for (let k = 0; k < n; k++) {
        const idx = source[k]
        if (idx < 0) {
          vals[k] = defaults[k]
          continue
        }
        const raw = row[idx]
        if (raw.length === 0 || (typed[k] && isBlankTyped(raw))) {
          vals[k] = defaults[k]
        } else if (!typed[k]) {
          vals[k] = plain || !ESC.test(raw) ? raw : raw.replace(ESC_ALL, escChar)
        } else {
          const p = parsers[k](raw)
          if (typeof p === 'string') vals[k] = p
          else {
            ok = false
            errors += this.recordError(rowNo, columns[k], raw, p)
          }
        }
      }
      let rawLine: string
      if (joinRaw) rawLine = n ? '\t' + row.join('\t') : ''
      else {
        rawLine = ''
        for (let k = 0; k < n; k++) {
          const idx = source[k]
          if (idx < 0) rawLine += '\t\\N'
          else {
            const raw = row[idx]
            rawLine += plain || !ESC.test(raw) ? '\t' + raw : '\t' + raw.replace(ESC_ALL, escChar)
          }
        }
      }
      this.total++
      bronze += prefix + rowNo + (ok ? '\tt' : '\tf') + rawLine + '\n'
      if (ok) {
        this.valid++
        silver += n ? prefix + rowNo + '\t' + vals.join('\t') + '\n' : prefix + rowNo + '\n'
      }
    }
    return { bronze, silver, errors }
  }

  private compiled?: Compiled

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
