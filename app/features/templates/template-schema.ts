import { isEmptyCell, isInvalid, normalizeDataType, parseCell, type DataType } from './column-types.ts'
import type { TemplateColumnInput } from './schemas.ts'

/** One column of a template as stored and returned: the spec's three fields. */
export interface ColumnSpec {
  column_name: string
  data_type: DataType
  default_value: string | null
}

export const MAX_COLUMNS = 1000
/** Names the platform uses for its own columns in the datalake tables. */
export const RESERVED_PREFIX = '_hd_'
/** Postgres system column names: a table cannot have a column with one of these names. */
export const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid'])
export const isSystemColumn = (name: string) => SYSTEM_COLUMNS.has(name.trim().toLowerCase())

export interface SchemaIssue {
  field: string
  message: string
}

/**
 * Checks a template's columns: names present, unique (ignoring case and surrounding spaces), at most 63 bytes
 * (a Postgres identifier), no control characters, not reserved; types known; defaults that parse as their type.
 * Every issue names the column it is about.
 */
export function validateTemplateSchema(
  columns: TemplateColumnInput[],
): { ok: true; columns: ColumnSpec[] } | { ok: false; issues: SchemaIssue[] } {
  const issues: SchemaIssue[] = []
  const out: ColumnSpec[] = []
  const seen = new Map<string, number>()
  columns.forEach((c, i) => {
    const at = `template_schema[${i}]`
    const name = c.column_name.trim()
    const label = name ? `column '${name}'` : `column ${i + 1}`
    if (!name) issues.push({ field: `${at}.column_name`, message: `${label}: the column name must not be empty` })
    else if (Buffer.byteLength(name, 'utf8') > 63) issues.push({ field: `${at}.column_name`, message: `${label}: the name is longer than 63 bytes` })
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f]/.test(name)) issues.push({ field: `${at}.column_name`, message: `${label}: the name contains control characters` })
    else if (name.toLowerCase().startsWith(RESERVED_PREFIX)) issues.push({ field: `${at}.column_name`, message: `${label}: names starting with ${RESERVED_PREFIX} are reserved` })
    else if (isSystemColumn(name)) issues.push({ field: `${at}.column_name`, message: `${label}: '${name}' is a name the database reserves for its own columns` })
    else {
      const key = name.toLowerCase()
      const first = seen.get(key)
      if (first !== undefined) issues.push({ field: `${at}.column_name`, message: `${label}: duplicate of column ${first + 1}` })
      else seen.set(key, i)
    }
    const type = normalizeDataType(c.data_type)
    if (!type) {
      issues.push({ field: `${at}.data_type`, message: `${label}: unknown data type '${c.data_type}' (use String, Integer, Float, Boolean, Date or DateTime)` })
      return
    }
    let def: string | null = c.default_value === undefined || c.default_value === null ? null : String(c.default_value)
    if (def !== null && isEmptyCell(type, def)) def = null
    if (def !== null && def.includes('\u0000')) {
      issues.push({ field: `${at}.default_value`, message: `${label}: the default value contains a NUL character` })
    } else if (def !== null) {
      const parsed = parseCell(type, def)
      if (isInvalid(parsed)) issues.push({ field: `${at}.default_value`, message: `${label}: default value '${def}' ${parsed.message} (${type})` })
    }
    out.push({ column_name: name, data_type: type, default_value: def })
  })
  return issues.length ? { ok: false, issues } : { ok: true, columns: out }
}
