import type { SqlParameter } from './schemas.ts'

/*
  The provider form's parameter editor, as data: one row per `:name` of the query (name, type, default, required)
  to and from the JSON array `configuration.parameters` takes. Keys the rows do not edit (min, max, enum, max_length,
  description) ride along untouched, so switching to the JSON view and back loses nothing. Pure.
*/

export const PARAMETER_TYPES = ['string', 'integer', 'number', 'boolean', 'date'] as const
export type ParameterType = (typeof PARAMETER_TYPES)[number]

export interface ParameterRow {
  name: string
  type: ParameterType
  /** as typed in the form; '' for none */
  default: string
  required: boolean
  extra: Record<string, unknown>
}

export const emptyRow = (name = ''): ParameterRow => ({ name, type: 'string', default: '', required: true, extra: {} })

const NAME = /^[a-z_][a-z0-9_]{0,62}$/
const DATE = /^\d{4}-\d{2}-\d{2}$/

/** A typed default from the form's text, or why it does not fit the type. */
function typedDefault(type: ParameterType, text: string): { value: string | number | boolean } | { error: string } {
  const t = text.trim()
  if (type === 'integer') return /^-?\d+$/.test(t) ? { value: Number(t) } : { error: 'must be an integer' }
  if (type === 'number') return t !== '' && Number.isFinite(Number(t)) ? { value: Number(t) } : { error: 'must be a number' }
  if (type === 'boolean') return t === 'true' || t === 'false' ? { value: t === 'true' } : { error: 'must be true or false' }
  if (type === 'date') return DATE.test(t) && !Number.isNaN(Date.parse(`${t}T00:00:00Z`)) && new Date(`${t}T00:00:00Z`).toISOString().startsWith(t) ? { value: t } : { error: 'must be a date (YYYY-MM-DD)' }
  return { value: text }
}

/**
 * The rows as `configuration.parameters`, and each row's problems keyed `N.name` / `N.default` (what the API would
 * name `configuration.parameters.N.…`). An empty default is left out; `required` is always written.
 */
export function parametersFromRows(rows: ParameterRow[]): { parameters: Partial<SqlParameter>[]; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const seen = new Set<string>()
  const parameters = rows.map((r, i) => {
    const name = r.name.trim()
    if (!NAME.test(name)) errors[`${i}.name`] = 'must be a lower_snake_case name'
    else if (seen.has(name)) errors[`${i}.name`] = `:${name} is declared twice`
    seen.add(name)
    const p: Partial<SqlParameter> & Record<string, unknown> = { ...r.extra, name, type: r.type, required: r.required }
    delete p.default
    if (r.default !== '') {
      const d = typedDefault(r.type, r.default)
      if ('error' in d) errors[`${i}.default`] = d.error
      else p.default = d.value
    }
    return p
  })
  return { parameters, errors }
}

/** `configuration.parameters` (parsed JSON) as rows, or why it cannot be edited as rows. */
export function rowsFromParameters(value: unknown): ParameterRow[] | { error: string } {
  if (!Array.isArray(value)) return { error: 'must be a JSON array of parameters' }
  const rows: ParameterRow[] = []
  for (const [i, p] of value.entries()) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) return { error: `parameter ${i + 1} must be an object` }
    const { name, type, default: d, required, ...extra } = p as Record<string, unknown>
    if (typeof name !== 'string') return { error: `parameter ${i + 1} needs a name` }
    const t = type ?? 'string'
    if (!PARAMETER_TYPES.includes(t as ParameterType)) return { error: `parameter ${name}: type must be one of ${PARAMETER_TYPES.join(', ')}` }
    if (d !== undefined && typeof d !== 'string' && typeof d !== 'number' && typeof d !== 'boolean') return { error: `parameter ${name}: default must be a string, number or boolean` }
    rows.push({ name, type: t as ParameterType, default: d === undefined ? '' : String(d), required: required !== false, extra })
  }
  return rows
}

/** The query's `:names` not declared in the rows yet, in the order they appear. */
export function undeclared(queryNames: string[], rows: ParameterRow[]) {
  const have = new Set(rows.map((r) => r.name.trim()))
  return [...new Set(queryNames)].filter((n) => !have.has(n))
}
