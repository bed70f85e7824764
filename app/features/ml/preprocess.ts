import type { DataType } from '#app/features/templates/column-types.ts'
import { numericCell, type RawTable } from './raw-table.ts'

/*
  Preprocessing as a stored object (`preprocess_id`): fitted on the training split only, then applied identically to
  the validation rows, to cross-validation folds and, later, at inference (one row from a form or a whole dataset).
  - Integer and Float pass through; Boolean becomes 0/1; Date and DateTime become numeric parts (days since 1970,
    year, month, day, ISO weekday, day of year, and the hour for DateTime).
  - String columns become one-hot columns (at most ONEHOT_MAX categories seen in training, in name order) or ordinal
    codes (by training frequency); a category not seen in training falls in an "unseen" bucket of its own.
  - Missing values stay missing (NaN): the trees learn where they go. The linear baseline imputes its own means.
  - A value of exactly -1 is written as -0.99999994 (the next float32 towards zero), because the WASM trainer reads
    -1 as missing. Every consumer (WASM, our tree walk, native XGBoost on an exported matrix) sees the same number.
*/

export const PREPROCESS_VERSION = 1
export const ONEHOT_MAX = 10
export const ORDINAL_MAX = 1000
export const MAX_CLASSES = 50
/** -1 as the trainer may see it: the float32 right above -1. */
export const MINUS_ONE = Math.fround(-1 + 2 ** -24)
export const UNSEEN = '__unseen__'

export type ProblemType = 'Classification' | 'Regression'
export type DatePart = 'epoch_days' | 'year' | 'month' | 'day' | 'weekday' | 'dayofyear' | 'hour'
const DATE_PARTS: DatePart[] = ['epoch_days', 'year', 'month', 'day', 'weekday', 'dayofyear']
const DATETIME_PARTS: DatePart[] = [...DATE_PARTS, 'hour']

export type EncodedColumn =
  | { column: string; data_type: 'Integer' | 'Float'; encoding: 'numeric'; features: [number] }
  | { column: string; data_type: 'Boolean'; encoding: 'boolean'; features: [number] }
  | { column: string; data_type: 'Date' | 'DateTime'; encoding: 'date_parts'; parts: DatePart[]; features: number[] }
  | { column: string; data_type: 'String'; encoding: 'onehot'; categories: string[]; features: number[] }
  | { column: string; data_type: 'String'; encoding: 'ordinal'; categories: string[]; features: [number] }

export interface PreprocessSpec {
  version: number
  problem_type: ProblemType
  target: { column: string; data_type: DataType; classes: string[] | null }
  id_columns: string[]
  /** One entry per Feature column, in the order of the request. */
  columns: EncodedColumn[]
  /** Names of the model's input features (matrix columns), in order. */
  features: string[]
  /** Rows the encodings were fitted on (the training split). */
  fitted_rows: number
  missing: 'NaN'
}

/** A float32 as the trainer may see it (the -1 rule above). */
export function fv(v: number): number {
  const f = Math.fround(v)
  return f === -1 ? MINUS_ONE : f
}

// ---------------------------------------------------------------- target

export class PreprocessError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly code: 'VALIDATION_ERROR' | 'INSUFFICIENT_DATA' = 'VALIDATION_ERROR',
  ) {
    super(message)
  }
}

/** The class labels of a classification target, in a fixed order (false < true; numbers by value; strings by code point). */
export function targetClasses(table: RawTable, column: string): string[] {
  const c = table.columns.find((x) => x.name === column)
  if (!c) throw new PreprocessError('columns', `target column '${column}' is not in the data`)
  if (c.data_type === 'Boolean') {
    const seen = new Set<number>()
    for (const v of c.values!) if (v === v) seen.add(v)
    return ['false', 'true'].filter((_, i) => seen.has(i))
  }
  if (c.data_type === 'Integer') {
    const seen = new Set<number>()
    for (const v of c.values!) {
      if (v === v) seen.add(v)
      if (seen.size > MAX_CLASSES) break
    }
    return [...seen].sort((a, b) => a - b).map(String)
  }
  if (c.data_type === 'String') {
    const used = new Uint8Array(c.dictionary!.length)
    for (const code of c.codes!) if (code >= 0) used[code] = 1
    return c.dictionary!.filter((_, i) => used[i]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }
  throw new PreprocessError('columns', `target '${column}' is ${c.data_type}: Classification needs Boolean, String or Integer`)
}

/** Labels per row: the class index (classification) or the value (regression); NaN where the target is missing. */
export function encodeTarget(spec: Pick<PreprocessSpec, 'target' | 'problem_type'>, table: RawTable): Float64Array {
  const c = table.columns.find((x) => x.name === spec.target.column)
  if (!c) throw new PreprocessError('columns', `target column '${spec.target.column}' is not in the data`)
  const out = new Float64Array(table.rows)
  if (spec.problem_type === 'Regression') {
    out.set(c.values!)
    return out
  }
  const classes = spec.target.classes!
  if (c.codes) {
    const index = new Map(classes.map((k, i) => [k, i]))
    const lookup = c.dictionary!.map((w) => index.get(w) ?? NaN)
    for (let i = 0; i < table.rows; i++) out[i] = c.codes[i] < 0 ? NaN : lookup[c.codes[i]]
    return out
  }
  const index = new Map(classes.map((k, i) => [c.data_type === 'Boolean' ? (k === 'true' ? 1 : 0) : Number(k), i]))
  for (let i = 0; i < table.rows; i++) {
    const v = c.values![i]
    out[i] = v === v ? (index.get(v) ?? NaN) : NaN
  }
  return out
}

// ---------------------------------------------------------------- fitting

export interface FitOptions {
  onehotMax?: number
}

/**
 * Fits the encodings of `features` on the rows `fitRows` (the training split). `classes` fixes the label space of a
 * classification target (from the whole dataset, so every split shares it).
 */
export function fitPreprocess(
  table: RawTable,
  roles: { target: string; features: string[]; ids: string[] },
  problemType: ProblemType,
  fitRows: Int32Array,
  classes: string[] | null,
  opts: FitOptions = {},
): PreprocessSpec {
  const onehotMax = opts.onehotMax ?? ONEHOT_MAX
  const byName = new Map(table.columns.map((c) => [c.name, c]))
  const target = byName.get(roles.target)
  if (!target) throw new PreprocessError('columns', `target column '${roles.target}' is not in the data`)
  const features: string[] = []
  const columns: EncodedColumn[] = roles.features.map((name) => {
    const c = byName.get(name)
    if (!c) throw new PreprocessError('columns', `feature column '${name}' is not in the data`)
    const first = features.length
    switch (c.data_type) {
      case 'Integer':
      case 'Float':
        features.push(name)
        return { column: name, data_type: c.data_type, encoding: 'numeric', features: [first] }
      case 'Boolean':
        features.push(name)
        return { column: name, data_type: 'Boolean', encoding: 'boolean', features: [first] }
      case 'Date':
      case 'DateTime': {
        const parts = c.data_type === 'Date' ? DATE_PARTS : DATETIME_PARTS
        for (const p of parts) features.push(`${name}__${p}`)
        return { column: name, data_type: c.data_type, encoding: 'date_parts', parts, features: parts.map((_, i) => first + i) }
      }
      case 'String': {
        const counts = new Float64Array(c.dictionary!.length)
        for (const r of fitRows) {
          const code = c.codes![r]
          if (code >= 0) counts[code]++
        }
        const seen = c.dictionary!.map((w, i) => ({ w, n: counts[i] })).filter((x) => x.n > 0)
        // By training frequency, then by code point: deterministic whatever the file order.
        seen.sort((a, b) => b.n - a.n || (a.w < b.w ? -1 : a.w > b.w ? 1 : 0))
        if (seen.length <= onehotMax) {
          // One-hot columns in name order: a refit that sees the same categories makes the same features.
          const categories = seen.map((x) => x.w).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
          for (const k of categories) features.push(`${name}=${k}`)
          features.push(`${name}=${UNSEEN}`)
          return { column: name, data_type: 'String', encoding: 'onehot', categories, features: Array.from({ length: categories.length + 1 }, (_, i) => first + i) }
        }
        features.push(name)
        return { column: name, data_type: 'String', encoding: 'ordinal', categories: seen.slice(0, ORDINAL_MAX).map((x) => x.w), features: [first] }
      }
    }
  })
  return {
    version: PREPROCESS_VERSION,
    problem_type: problemType,
    target: { column: roles.target, data_type: target.data_type, classes },
    id_columns: roles.ids,
    columns,
    features,
    fitted_rows: fitRows.length,
    missing: 'NaN',
  }
}

// ---------------------------------------------------------------- applying

function datePart(part: DatePart, ms: number): number {
  const d = new Date(ms)
  switch (part) {
    case 'epoch_days':
      return ms / 86_400_000
    case 'year':
      return d.getUTCFullYear()
    case 'month':
      return d.getUTCMonth() + 1
    case 'day':
      return d.getUTCDate()
    case 'weekday':
      return ((d.getUTCDay() + 6) % 7) + 1
    case 'dayofyear':
      return Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1
    case 'hour':
      return d.getUTCHours() + d.getUTCMinutes() / 60
  }
}

/** Writes one column's features for a numeric cell (number/boolean/date as numericCell gives) or a string. */
function encodeInto(col: EncodedColumn, v: unknown, out: Float32Array, at: number) {
  switch (col.encoding) {
    case 'numeric':
    case 'boolean': {
      const n = typeof v === 'number' && col.encoding === 'numeric' ? v : numericCell(col.data_type, v)
      out[at + col.features[0]] = n === n ? fv(n) : NaN
      return
    }
    case 'date_parts': {
      const ms = numericCell(col.data_type, v)
      for (let p = 0; p < col.parts.length; p++) out[at + col.features[p]] = ms === ms ? fv(datePart(col.parts[p], ms)) : NaN
      return
    }
    case 'onehot': {
      const f0 = col.features[0]
      const k = col.features.length
      if (v === null || v === undefined) {
        for (let i = 0; i < k; i++) out[at + f0 + i] = NaN
        return
      }
      const idx = col.categories.indexOf(String(v))
      for (let i = 0; i < k; i++) out[at + f0 + i] = 0
      out[at + f0 + (idx < 0 ? k - 1 : idx)] = 1
      return
    }
    case 'ordinal': {
      if (v === null || v === undefined) {
        out[at + col.features[0]] = NaN
        return
      }
      const idx = col.categories.indexOf(String(v))
      out[at + col.features[0]] = idx < 0 ? col.categories.length : idx
      return
    }
  }
}

/**
 * The model's input for one record (column name → value as a form or JSON gives it: strings, numbers, booleans,
 * ISO dates, null). Columns absent from the record are missing.
 */
export function transformRecord(spec: PreprocessSpec, record: Record<string, unknown>): Float32Array {
  const out = new Float32Array(spec.features.length)
  for (const col of spec.columns) encodeInto(col, record[col.column] ?? null, out, 0)
  return out
}

/**
 * Rows of values in the order of `columnNames` (e.g. a silver batch) → a row-major matrix, written into `out` from row
 * `atRow` (allocated when omitted). Columns of the spec missing from `columnNames` are a caller error.
 */
export function transformRows(spec: PreprocessSpec, columnNames: string[], rows: unknown[][], out?: Float32Array, atRow = 0): Float32Array {
  const F = spec.features.length
  const matrix = out ?? new Float32Array(rows.length * F)
  const pos = spec.columns.map((c) => {
    const i = columnNames.indexOf(c.column)
    if (i < 0) throw new PreprocessError('columns', `column '${c.column}' is missing`)
    return i
  })
  for (let r = 0; r < rows.length; r++) {
    const at = (atRow + r) * F
    for (let j = 0; j < spec.columns.length; j++) encodeInto(spec.columns[j], rows[r][pos[j]], matrix, at)
  }
  return matrix
}

/** The rows `rows` of a RawTable → row-major matrix (the fast path of training: per column, lookups per string code). */
export function buildMatrix(spec: PreprocessSpec, table: RawTable, rows: Int32Array, out?: Float32Array): Float32Array {
  const F = spec.features.length
  const n = rows.length
  const m = out ?? new Float32Array(n * F)
  const byName = new Map(table.columns.map((c) => [c.name, c]))
  for (const col of spec.columns) {
    const c = byName.get(col.column)
    if (!c) throw new PreprocessError('columns', `column '${col.column}' is missing`)
    if (col.encoding === 'numeric' || col.encoding === 'boolean') {
      const f = col.features[0]
      const v = c.values!
      for (let i = 0; i < n; i++) {
        const x = v[rows[i]]
        m[i * F + f] = x === x ? fv(x) : NaN
      }
    } else if (col.encoding === 'date_parts') {
      const v = c.values!
      for (let i = 0; i < n; i++) {
        const ms = v[rows[i]]
        for (let p = 0; p < col.parts.length; p++) m[i * F + col.features[p]] = ms === ms ? fv(datePart(col.parts[p], ms)) : NaN
      }
    } else {
      const index = new Map(col.categories.map((k, i) => [k, i]))
      const unseen = col.encoding === 'onehot' ? col.features.length - 1 : col.categories.length
      const lookup = Int32Array.from(c.dictionary!, (w) => index.get(w) ?? unseen)
      const codes = c.codes!
      const f0 = col.features[0]
      if (col.encoding === 'ordinal') {
        for (let i = 0; i < n; i++) {
          const code = codes[rows[i]]
          m[i * F + f0] = code < 0 ? NaN : lookup[code]
        }
      } else {
        const k = col.features.length
        for (let i = 0; i < n; i++) {
          const code = codes[rows[i]]
          const at = i * F + f0
          if (code < 0) for (let q = 0; q < k; q++) m[at + q] = NaN
          else {
            for (let q = 0; q < k; q++) m[at + q] = 0
            m[at + lookup[code]] = 1
          }
        }
      }
    }
  }
  return m
}

/** Feature index → the original column it came from (one-hot parts and date parts sum back to their column). */
export function featureColumns(spec: PreprocessSpec): string[] {
  const out = new Array<string>(spec.features.length)
  for (const c of spec.columns) for (const f of c.features) out[f] = c.column
  return out
}

/** What differs between two preprocess objects, in sentences (POST /train/update/ says what changed). */
export function describeChanges(from: PreprocessSpec, to: PreprocessSpec): { changes: string[]; compatible: boolean; reason?: string } {
  const changes: string[] = []
  const a = new Map(from.columns.map((c) => [c.column, c]))
  const b = new Map(to.columns.map((c) => [c.column, c]))
  for (const [name, c] of b) {
    const old = a.get(name)
    if (!old) changes.push(`column '${name}' added (${c.encoding})`)
    else if (old.encoding !== c.encoding) changes.push(`column '${name}': ${old.encoding} → ${c.encoding}`)
    else if ('categories' in old && 'categories' in c) {
      const added = c.categories.filter((k) => !old.categories.includes(k))
      const removed = old.categories.filter((k) => !c.categories.includes(k))
      if (added.length || removed.length) changes.push(`column '${name}': categories ${added.length ? `+${added.join(', +')}` : ''}${added.length && removed.length ? ' ' : ''}${removed.length ? `-${removed.join(', -')}` : ''}`)
      else if (old.categories.join('\u0000') !== c.categories.join('\u0000')) changes.push(`column '${name}': category codes reordered`)
    }
  }
  for (const name of a.keys()) if (!b.has(name)) changes.push(`column '${name}' removed`)
  if (from.target.column !== to.target.column) changes.push(`target: '${from.target.column}' → '${to.target.column}'`)
  const sameFeatures = from.features.length === to.features.length && from.features.every((f, i) => f === to.features[i])
  if (!sameFeatures) return { changes, compatible: false, reason: `the model reads ${from.features.length} features (${from.features.slice(0, 5).join(', ')}…); this preprocess produces ${to.features.length}` }
  if (from.target.column !== to.target.column || (from.target.classes ?? []).join('\u0000') !== (to.target.classes ?? []).join('\u0000')) {
    return { changes, compatible: false, reason: 'the target or its classes differ' }
  }
  return { changes, compatible: true }
}
