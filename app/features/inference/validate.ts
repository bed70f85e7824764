import { UNSEEN, type PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { isInvalid, parseCell, type DataType } from '#app/features/templates/column-types.ts'

/*
  The checks of one real-time input (`features`) against the model's input columns, before anything is scored:
  every input column present (null is an explicit missing value, which the model handles), no column it does not
  read (the training's Id and Target columns are ignored and said so), each value of its column's type by the same
  rules as an upload's cells, and categories not seen in training either accepted through the preprocess's unseen
  bucket (the default, reported) or refused. Every problem is an issue naming `features.<column>`. Pure.
*/

export interface FieldIssue {
  field: string
  message: string
}

export interface CheckedInput {
  /** Column → value as transformRecord reads it (numbers, booleans, strings; null = missing). */
  record: Record<string, unknown>
  /** Columns sent as null: scored as missing values. */
  missing: string[]
  /** Categories the training never saw: scored through the unseen bucket. */
  unseen: { feature: string; value: string; bucket: string }[]
  /** Keys sent that are the training's Id or Target columns: not model inputs, left out. */
  ignored: string[]
}

const TYPE_WORDS: Record<DataType, string> = {
  String: 'a string',
  Integer: 'an integer',
  Float: 'a number',
  Boolean: 'true or false',
  Date: 'a date (YYYY-MM-DD)',
  DateTime: 'a date-time (ISO 8601, e.g. 2025-08-09T16:23:00Z)',
}

/** A JSON value as its column's type, or an issue message. */
export function checkValue(type: DataType, v: unknown): { value: unknown } | { message: string } {
  const bad = { message: `must be ${TYPE_WORDS[type]}` }
  switch (type) {
    case 'String':
      return typeof v === 'string' ? { value: v } : { message: `must be a string (got ${typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : typeof v})` }
    case 'Integer':
      if (typeof v === 'number') return Number.isSafeInteger(v) ? { value: v } : bad
      if (typeof v === 'string') {
        const p = parseCell('Integer', v)
        return isInvalid(p) || !Number.isSafeInteger(Number(p)) ? { message: `must be an integer ('${clip(v)}' ${isInvalid(p) ? p.message : 'is out of range'})` } : { value: Number(p) }
      }
      return bad
    case 'Float':
      if (typeof v === 'number') return Number.isFinite(v) ? { value: v } : bad
      if (typeof v === 'string') {
        const p = parseCell('Float', v)
        return isInvalid(p) ? { message: `must be a number ('${clip(v)}' ${p.message})` } : { value: Number(p) }
      }
      return bad
    case 'Boolean':
      if (typeof v === 'boolean') return { value: v }
      if (v === 0 || v === 1) return { value: v === 1 }
      if (typeof v === 'string') {
        const p = parseCell('Boolean', v)
        return isInvalid(p) ? { message: `must be true or false ('${clip(v)}' ${p.message})` } : { value: p === 'true' }
      }
      return bad
    case 'Date':
    case 'DateTime': {
      if (typeof v !== 'string') return bad
      const p = parseCell(type, v)
      return isInvalid(p) ? { message: `must be ${TYPE_WORDS[type]} ('${clip(v)}' ${p.message})` } : { value: v.trim() }
    }
  }
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s)

export function checkInput(
  spec: PreprocessSpec,
  features: Record<string, unknown>,
  opts: { ignorable: string[]; unseen: 'accept' | 'reject' },
): { ok: true; input: CheckedInput } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = []
  const inputs = new Map(spec.columns.map((c) => [c.column, c]))
  const lower = new Map(spec.columns.map((c) => [c.column.toLowerCase(), c.column]))
  const ignorable = new Set(opts.ignorable)
  const record: Record<string, unknown> = {}
  const out: CheckedInput = { record, missing: [], unseen: [], ignored: [] }
  for (const key of Object.keys(features)) {
    if (inputs.has(key)) continue
    if (ignorable.has(key)) {
      out.ignored.push(key)
      continue
    }
    const near = lower.get(key.toLowerCase())
    issues.push({
      field: `features.${key}`,
      message: near ? `is not an input of this model; did you mean '${near}'?` : `is not an input of this model (its inputs: ${spec.columns.map((c) => c.column).join(', ')})`,
    })
  }
  for (const col of spec.columns) {
    const field = `features.${col.column}`
    if (!Object.prototype.hasOwnProperty.call(features, col.column)) {
      issues.push({ field, message: `is required (${TYPE_WORDS[col.data_type]}; send null for a missing value)` })
      continue
    }
    const v = features[col.column]
    if (v === null) {
      record[col.column] = null
      out.missing.push(col.column)
      continue
    }
    const r = checkValue(col.data_type, v)
    if ('message' in r) {
      issues.push({ field, message: r.message })
      continue
    }
    if (col.encoding === 'onehot' || col.encoding === 'ordinal') {
      const s = String(r.value)
      if (!col.categories.includes(s)) {
        const known = col.categories.slice(0, 20).map((k) => `'${k}'`).join(', ') + (col.categories.length > 20 ? ', …' : '')
        if (opts.unseen === 'reject') {
          issues.push({ field, message: `'${clip(s)}' was not seen in training (known: ${known})` })
          continue
        }
        out.unseen.push({ feature: col.column, value: s, bucket: col.encoding === 'onehot' ? `${col.column}=${UNSEEN}` : `${col.column} (code ${col.categories.length}, unseen)` })
      }
    }
    record[col.column] = r.value
  }
  return issues.length ? { ok: false, issues } : { ok: true, input: out }
}
