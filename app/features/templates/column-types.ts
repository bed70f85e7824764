/**
 * The column types a template can declare, how each is spelled, how a CSV cell is checked against it,
 * and the Postgres type it is stored as in the silver layer.
 */
export const DATA_TYPES = ['String', 'Integer', 'Float', 'Boolean', 'Date', 'DateTime'] as const
export type DataType = (typeof DATA_TYPES)[number]

// Spellings seen in the spec and in the tools people export from (pandas, SQL, Spark), lower-cased.
const ALIASES: Record<string, DataType> = {
  string: 'String', str: 'String', text: 'String', varchar: 'String', char: 'String', object: 'String', category: 'String',
  integer: 'Integer', int: 'Integer', int32: 'Integer', int64: 'Integer', long: 'Integer', bigint: 'Integer', smallint: 'Integer',
  float: 'Float', float32: 'Float', float64: 'Float', double: 'Float', decimal: 'Float', number: 'Float', numeric: 'Float', real: 'Float',
  boolean: 'Boolean', bool: 'Boolean',
  date: 'Date',
  datetime: 'DateTime', timestamp: 'DateTime', timestamptz: 'DateTime', 'datetime64': 'DateTime', 'datetime64[ns]': 'DateTime',
}

/** The canonical type for a spelling (case-insensitive), or null when unknown. */
export function normalizeDataType(spelling: string): DataType | null {
  return ALIASES[spelling.trim().toLowerCase()] ?? null
}

export const PG_TYPES: Record<DataType, string> = {
  String: 'text',
  Integer: 'bigint',
  Float: 'double precision',
  Boolean: 'boolean',
  Date: 'date',
  DateTime: 'timestamptz',
}

/** A broken rule: `rule` is a stable code for the report, `message` a sentence for people. */
export interface Invalid {
  rule: string
  message: string
}

export const isInvalid = (v: unknown): v is Invalid => typeof v === 'object' && v !== null

const INT_RE = /^[+-]?\d+$/
const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i
const TRUE = new Set(['true', 't', 'yes', 'y', '1', 'on'])
const FALSE = new Set(['false', 'f', 'no', 'n', '0', 'off'])
const INT8_MAX = 9223372036854775807n
const INT8_MIN = -9223372036854775808n

function validDate(y: number, m: number, d: number) {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
  return d <= days[m - 1]
}

/**
 * Checks one non-empty cell against a type. Returns the value as Postgres will read it in COPY text
 * (booleans as true/false, datetimes with an explicit zone, UTC when the cell has none), or an Invalid.
 */
export function parseCell(type: DataType, raw: string): string | Invalid {
  if (type === 'String') return raw
  const v = raw.trim()
  switch (type) {
    case 'Integer': {
      if (!INT_RE.test(v)) return { rule: 'invalid_integer', message: 'is not a whole number' }
      if (v.length > 18) {
        const n = BigInt(v)
        if (n > INT8_MAX || n < INT8_MIN) return { rule: 'integer_out_of_range', message: 'is outside the 64-bit integer range' }
      }
      return v
    }
    case 'Float': {
      if (!FLOAT_RE.test(v)) return { rule: 'invalid_float', message: 'is not a number' }
      const n = Number(v)
      if (!Number.isFinite(n)) return { rule: 'float_out_of_range', message: 'is too large for a double-precision number' }
      // Postgres refuses a non-zero value that rounds to zero (underflow), as 1e-400 does.
      if (n === 0 && /[1-9]/.test(v.split(/[eE]/)[0])) return { rule: 'float_out_of_range', message: 'is too small for a double-precision number (it underflows to 0)' }
      return v
    }
    case 'Boolean': {
      const l = v.toLowerCase()
      if (TRUE.has(l)) return 'true'
      if (FALSE.has(l)) return 'false'
      return { rule: 'invalid_boolean', message: 'is not true/false, yes/no or 1/0' }
    }
    case 'Date': {
      const m = DATE_RE.exec(v)
      if (!m || !validDate(+m[1], +m[2], +m[3])) return { rule: 'invalid_date', message: 'is not a date (YYYY-MM-DD)' }
      return v
    }
    case 'DateTime': {
      const m = DATETIME_RE.exec(v)
      if (!m || !validDate(+m[1], +m[2], +m[3]) || +m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) {
        return { rule: 'invalid_datetime', message: 'is not a date-time (ISO 8601, e.g. 2025-08-09T16:23:00Z)' }
      }
      const zone = m[8] ? (m[8].toUpperCase() === 'Z' ? '+00' : m[8]) : '+00'
      // Postgres takes offsets up to ±15:59.
      if (+zone.slice(1, 3) > 15 || (zone.length > 3 && +zone.slice(-2) > 59)) {
        return { rule: 'invalid_datetime', message: 'has a time-zone offset outside ±15:59' }
      }
      return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7] ?? ''}${zone}`
    }
  }
}

/** True when a cell counts as empty for a type (strings keep whitespace; other types ignore it). */
export function isEmptyCell(type: DataType, raw: string): boolean {
  return raw === '' || (type !== 'String' && raw.trim() === '')
}
