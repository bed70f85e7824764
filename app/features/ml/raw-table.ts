import type { DataType } from '#app/features/templates/column-types.ts'

/*
  A dataset's columns as typed arrays, filled batch by batch from silver (forEachSilverBatch) and handed to a pool
  thread by transfer, without a copy: numbers, booleans (0/1) and dates (epoch milliseconds) as Float64Array with NaN
  for missing, strings as dictionary codes (Int32Array, -1 for missing). Memory is the matrix, not row objects.
*/

export interface RawColumn {
  name: string
  data_type: DataType
  /** Integer, Float, Boolean (0/1), Date and DateTime (epoch ms); NaN = missing. */
  values?: Float64Array
  /** String: index into `dictionary`; -1 = missing. */
  codes?: Int32Array
  dictionary?: string[]
}

export interface RawTable {
  rows: number
  columns: RawColumn[]
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/

/**
 * A cell as a number for its column type (NaN when missing or unreadable): numbers as they are, booleans 0/1, dates and
 * date-times as epoch milliseconds (UTC). Accepts what silver reads give (number, boolean, 'YYYY-MM-DD', Date) and what a
 * JSON request gives (numbers, 'true'/'yes'/1, ISO strings).
 */
export function numericCell(type: DataType, v: unknown): number {
  if (v === null || v === undefined || v === '') return NaN
  switch (type) {
    case 'Integer':
    case 'Float': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'boolean' ? Number(v) : NaN
      return Number.isFinite(n) ? n : NaN
    }
    case 'Boolean': {
      if (typeof v === 'boolean') return v ? 1 : 0
      if (typeof v === 'number') return v === 1 ? 1 : v === 0 ? 0 : NaN
      const s = String(v).trim().toLowerCase()
      if (['true', 't', 'yes', 'y', '1', 'on'].includes(s)) return 1
      if (['false', 'f', 'no', 'n', '0', 'off'].includes(s)) return 0
      return NaN
    }
    case 'Date': {
      if (v instanceof Date) return Date.UTC(v.getUTCFullYear(), v.getUTCMonth(), v.getUTCDate())
      const m = DATE_RE.exec(String(v).trim())
      if (!m) return NaN
      const t = Date.UTC(+m[1], +m[2] - 1, +m[3])
      return Number.isFinite(t) ? t : NaN
    }
    case 'DateTime': {
      if (v instanceof Date) return v.getTime()
      if (typeof v === 'number') return Number.isFinite(v) ? v : NaN
      const s = String(v).trim()
      // A zone-less date-time is UTC, as the upload reads it.
      const t = Date.parse(/[zZ]|[+-]\d{2}(:?\d{2})?$/.test(s) || !/\d{2}:\d{2}/.test(s) ? s : `${s}Z`)
      return Number.isFinite(t) ? t : NaN
    }
    default:
      return NaN
  }
}

/** Builds a RawTable from row batches whose values follow `columns`. */
export class RawTableBuilder {
  private n = 0
  private capacity: number
  private cols: { name: string; type: DataType; values?: Float64Array; codes?: Int32Array; dict?: Map<string, number>; words?: string[] }[]

  constructor(columns: { column_name: string; data_type: DataType }[], expectedRows = 1024) {
    this.capacity = Math.max(16, expectedRows)
    this.cols = columns.map((c) =>
      c.data_type === 'String'
        ? { name: c.column_name, type: c.data_type, codes: new Int32Array(this.capacity), dict: new Map(), words: [] }
        : { name: c.column_name, type: c.data_type, values: new Float64Array(this.capacity) },
    )
  }

  get rows() {
    return this.n
  }

  private grow(need: number) {
    if (need <= this.capacity) return
    let cap = this.capacity
    while (cap < need) cap *= 2
    for (const c of this.cols) {
      if (c.values) {
        const v = new Float64Array(cap)
        v.set(c.values.subarray(0, this.n))
        c.values = v
      } else {
        const v = new Int32Array(cap)
        v.set(c.codes!.subarray(0, this.n))
        c.codes = v
      }
    }
    this.capacity = cap
  }

  /** Appends rows (arrays of values in column order). */
  append(rows: unknown[][]) {
    this.grow(this.n + rows.length)
    for (let j = 0; j < this.cols.length; j++) {
      const c = this.cols[j]
      if (c.values) {
        const out = c.values
        for (let i = 0; i < rows.length; i++) out[this.n + i] = numericCell(c.type, rows[i][j])
      } else {
        const out = c.codes!
        const dict = c.dict!
        for (let i = 0; i < rows.length; i++) {
          const v = rows[i][j]
          if (v === null || v === undefined) {
            out[this.n + i] = -1
            continue
          }
          const s = String(v)
          let code = dict.get(s)
          if (code === undefined) {
            code = c.words!.length
            dict.set(s, code)
            c.words!.push(s)
          }
          out[this.n + i] = code
        }
      }
    }
    this.n += rows.length
  }

  /** The table, trimmed to the rows appended. The builder must not be used afterwards. */
  finish(): RawTable {
    const n = this.n
    const trim = <T extends Float64Array | Int32Array>(a: T): T => (a.length === n ? a : (a.slice(0, n) as T))
    return {
      rows: n,
      columns: this.cols.map((c) =>
        c.values ? { name: c.name, data_type: c.type, values: trim(c.values) } : { name: c.name, data_type: c.type, codes: trim(c.codes!), dictionary: c.words! },
      ),
    }
  }
}

/** The ArrayBuffers of a table, to pass as a transfer list. */
export function rawTableBuffers(t: RawTable): ArrayBuffer[] {
  return t.columns.map((c) => (c.values ?? c.codes!).buffer as ArrayBuffer)
}

/** Table → plain records (tests and small exports): strings, numbers, booleans, ISO dates, null. */
export function rawRecord(t: RawTable, i: number): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {}
  for (const c of t.columns) {
    if (c.codes) out[c.name] = c.codes[i] < 0 ? null : c.dictionary![c.codes[i]]
    else {
      const v = c.values![i]
      if (v !== v) out[c.name] = null
      else if (c.data_type === 'Boolean') out[c.name] = v === 1
      else if (c.data_type === 'Date') out[c.name] = new Date(v).toISOString().slice(0, 10)
      else if (c.data_type === 'DateTime') out[c.name] = new Date(v).toISOString()
      else out[c.name] = v
    }
  }
  return out
}
