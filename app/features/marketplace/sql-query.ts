import type { SqlParameter } from './schemas.ts'

/*
  A SQL asset's query: one read-only statement with named parameters (`:region`), compiled to the driver's
  placeholders ($1 for Postgres, ? for MySQL) so values never become SQL text; the parameters typed and checked
  against what the provider declared. The read-only transaction on the source is the guard; the statement check here
  only gives a clear 400 before a round trip. Pure.
*/

export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

/** Scans the query outside quotes, identifiers and comments; calls `onParam` for each `:name` (not `::type`). */
function scan(query: string, onParam: (name: string, start: number, end: number) => void, onSemicolon: (at: number) => void) {
  let i = 0
  while (i < query.length) {
    const c = query[i]
    const n = query[i + 1]
    if (c === "'" || c === '"' || c === '`') {
      const close = c
      i++
      while (i < query.length && !(query[i] === close && query[i + 1] !== close)) i += query[i] === close ? 2 : 1
      i++
    } else if (c === '-' && n === '-') {
      while (i < query.length && query[i] !== '\n') i++
    } else if (c === '/' && n === '*') {
      const end = query.indexOf('*/', i + 2)
      i = end < 0 ? query.length : end + 2
    } else if (c === ':' && n === ':') i += 2
    else if (c === ':' && /[a-z_]/i.test(n ?? '') && !/[\w$]/.test(query[i - 1] ?? '')) {
      let j = i + 1
      while (j < query.length && /\w/.test(query[j])) j++
      onParam(query.slice(i + 1, j), i, j)
      i = j
    } else {
      if (c === ';') onSemicolon(i)
      i++
    }
  }
}

/** The names a query uses, checked: one statement that reads (SELECT / WITH / VALUES / TABLE). */
export function queryParameters(query: string): string[] {
  const names: string[] = []
  scan(
    query,
    (name) => names.push(name),
    (at) => {
      if (query.slice(at + 1).trim()) throw new FieldError('configuration.query', 'must be a single statement')
    },
  )
  const first = query
    .replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '')
    .split(/\s+/)[0]
    ?.toLowerCase()
  if (!['select', 'with', 'values', 'table', '('].some((k) => first?.startsWith(k))) {
    throw new FieldError('configuration.query', 'must be a read-only query (SELECT, WITH, VALUES or TABLE)')
  }
  return [...new Set(names)]
}

/** Every name the query uses is declared; returns the compiled text and the order of the names. */
export function compileQuery(query: string, params: SqlParameter[], dialect: 'postgres' | 'mysql'): { text: string; order: string[] } {
  const declared = new Set(params.map((p) => p.name))
  for (const n of queryParameters(query)) if (!declared.has(n)) throw new FieldError('configuration.parameters', `the query uses :${n}, which is not declared`)
  const order: string[] = []
  const parts: string[] = []
  let last = 0
  scan(
    query,
    (name, start, end) => {
      parts.push(query.slice(last, start))
      order.push(name)
      parts.push(dialect === 'postgres' ? `$${order.length}` : '?')
      last = end
    },
    () => {},
  )
  parts.push(query.slice(last))
  return { text: parts.join('').trim().replace(/;\s*$/, ''), order }
}

/** The input schema of a SQL asset: parameter name → type. */
export function sqlInputSchema(params: SqlParameter[]): Record<string, string> {
  return Object.fromEntries(params.map((p) => [p.name, p.type]))
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** The values of the declared parameters from `input_data`, typed and checked; the field of the first problem. */
export function parameterValues(params: SqlParameter[], input: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const known = new Set(params.map((p) => p.name))
  for (const k of Object.keys(input)) if (!known.has(k)) throw new FieldError(`input_data.${k}`, 'is not a parameter of this asset')
  const out: Record<string, string | number | boolean | null> = {}
  for (const p of params) {
    const field = `input_data.${p.name}`
    let v = input[p.name]
    if (v === undefined || v === null) {
      if (p.default !== undefined) v = p.default
      else if (p.required) throw new FieldError(field, 'is required')
      else {
        out[p.name] = null
        continue
      }
    }
    switch (p.type) {
      case 'integer':
      case 'number': {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(field, `must be ${p.type === 'integer' ? 'an integer' : 'a number'}`)
        if (p.type === 'integer' && !Number.isInteger(v)) throw new FieldError(field, 'must be an integer')
        if (p.min !== undefined && v < p.min) throw new FieldError(field, `must be at least ${p.min}`)
        if (p.max !== undefined && v > p.max) throw new FieldError(field, `must be at most ${p.max}`)
        break
      }
      case 'boolean':
        if (typeof v !== 'boolean') throw new FieldError(field, 'must be true or false')
        break
      case 'date':
        if (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
          throw new FieldError(field, 'must be a date (YYYY-MM-DD)')
        }
        break
      case 'string':
        if (typeof v !== 'string') throw new FieldError(field, 'must be a string')
        if (v.includes('\u0000')) throw new FieldError(field, 'must not contain NUL characters')
        if (v.length > (p.max_length ?? 1000)) throw new FieldError(field, `must be at most ${p.max_length ?? 1000} characters`)
        break
    }
    if (p.enum && !p.enum.some((e) => e === v)) throw new FieldError(field, `must be one of ${p.enum.join(', ')}`)
    out[p.name] = v as string | number | boolean
  }
  return out
}
