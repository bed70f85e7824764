/*
  Semantic versions of an asset, decided from the diff between its state before and after a change:
  major when the input schema changes (a consumer's request may no longer fit), minor when the model or the
  configuration changes (same inputs, other answers), patch for metadata (name, description, category, pricing,
  validation rules). A status change alone (publish, archive) is lifecycle, not content: no new version.
  Pure: no database.
*/

export type Bump = 'major' | 'minor' | 'patch'

export interface AssetState {
  kind: 'model' | 'sql'
  name: string
  description: string
  category: string
  subcategory: string | null
  status: string
  configuration: Record<string, unknown>
  validation_rules: Record<string, unknown>
  pricing: { model?: string; price?: number; currency?: string; free_tier?: { requests?: number; period?: string } }
  /** What executes: the model version, the query and its parameters… (derived) */
  definition: Record<string, unknown>
  input_schema: Record<string, string>
}

export interface VersionPlan {
  bump: Bump | null
  version: string
  changes: string[]
  requires_retraining: boolean
  /** The definition (what executes) differs from the state before. */
  definition_changed: boolean
}

/** Configuration keys whose change needs a new training before it shows in answers. */
const RETRAINING_KEYS = ['features', 'additional_features', 'target_variable', 'performance_threshold', 'algorithms', 'validation_split', 'model_type']

export function parseVersion(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v)
  if (!m) throw new Error(`not a semantic version: ${v}`)
  return [Number(m[1]), Number(m[2]), Number(m[3])]
}

export function bumpVersion(v: string, bump: Bump): string {
  const [a, b, c] = parseVersion(v)
  return bump === 'major' ? `${a + 1}.0.0` : bump === 'minor' ? `${a}.${b + 1}.0` : `${a}.${b}.${c + 1}`
}

/** Orders semantic versions numerically (1.10.0 after 1.9.0). */
export function compareVersions(x: string, y: string): number {
  const a = parseVersion(x)
  const b = parseVersion(y)
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
}

/** JSON equality with object keys in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b)
}
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v ?? null)
}

const HUMAN: Record<string, string> = {
  performance_threshold: 'performance threshold',
  target_variable: 'target variable',
  validation_split: 'validation split',
  model_type: 'model type',
  risk_thresholds: 'risk thresholds',
  max_rows: 'row limit',
  timeout_ms: 'statement timeout',
  output_format: 'output format',
  batch_processing: 'batch processing',
  train_id: 'training',
  model_id: 'model version',
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.max(2, Math.min(6, String(v).split('.')[1]?.length ?? 2)))
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

function money(price: number, currency = 'USD') {
  return currency === 'USD' ? `$${price.toFixed(2)}` : `${price.toFixed(2)} ${currency}`
}

function listDiff(before: unknown, after: unknown) {
  const a = new Set(Array.isArray(before) ? before.map(String) : [])
  const b = new Set(Array.isArray(after) ? after.map(String) : [])
  return { added: [...b].filter((x) => !a.has(x)), removed: [...a].filter((x) => !b.has(x)) }
}

function plural(n: number, word: string) {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function configurationChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = []
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[key]
    const b = after[key]
    if (sameJson(a, b)) continue
    if (key === 'features' || key === 'additional_features' || key === 'algorithms') {
      const d = listDiff(a, b)
      const noun = key === 'algorithms' ? 'algorithm' : 'feature'
      if (d.added.length) out.push(`Added ${plural(d.added.length, `new ${noun}`)}`)
      if (d.removed.length) out.push(`Removed ${plural(d.removed.length, noun)}`)
      continue
    }
    if (key === 'query') {
      out.push('Changed the query')
      continue
    }
    if (key === 'parameters') {
      const names = (x: unknown) => (Array.isArray(x) ? x.map((p) => (p as { name: string }).name) : [])
      const d = listDiff(names(a), names(b))
      if (d.added.length) out.push(`Added ${plural(d.added.length, 'parameter')} (${d.added.join(', ')})`)
      if (d.removed.length) out.push(`Removed ${plural(d.removed.length, 'parameter')} (${d.removed.join(', ')})`)
      if (!d.added.length && !d.removed.length) out.push('Changed parameter types or limits')
      continue
    }
    const label = HUMAN[key] ?? key.replaceAll('_', ' ')
    if (b === undefined) out.push(`Removed the ${label}`)
    else out.push(`Updated ${label} to ${fmt(b)}`)
  }
  return out
}

function pricingChanges(before: AssetState['pricing'], after: AssetState['pricing']): string[] {
  const out: string[] = []
  if (before.price !== after.price || before.currency !== after.currency) out.push(`Adjusted pricing to ${money(after.price ?? 0, after.currency)}`)
  if (before.model !== after.model) out.push(`Changed the pricing model to ${after.model}`)
  if (!sameJson(before.free_tier, after.free_tier)) {
    const t = after.free_tier
    out.push(t ? `Free tier set to ${plural(t.requests ?? 0, 'request')} per ${t.period === 'daily' ? 'day' : 'month'}` : 'Removed the free tier')
  }
  return out
}

function schemaChanges(before: Record<string, string>, after: Record<string, string>): string[] {
  const d = listDiff(Object.keys(before), Object.keys(after))
  const retyped = Object.keys(after).filter((k) => k in before && before[k] !== after[k])
  const parts = [
    d.added.length && `added ${d.added.join(', ')}`,
    d.removed.length && `removed ${d.removed.join(', ')}`,
    retyped.length && `retyped ${retyped.join(', ')}`,
  ].filter(Boolean)
  return parts.length ? [`Changed the input schema: ${parts.join('; ')}`] : []
}

/** The next version of an asset going from `before` to `after`, at `current`. */
export function planVersion(before: AssetState, after: AssetState, current: string): VersionPlan {
  const changes: string[] = []
  let bump: Bump | null = null
  const raise = (b: Bump) => {
    const rank = { patch: 1, minor: 2, major: 3 }
    if (!bump || rank[b] > rank[bump]) bump = b
  }
  const inputChanged = !sameJson(before.input_schema, after.input_schema)
  if (inputChanged) {
    raise('major')
    changes.push(...schemaChanges(before.input_schema, after.input_schema))
  }
  const definitionChanged = !sameJson(before.definition, after.definition)
  const configChanges = configurationChanges(before.configuration, after.configuration)
  if (configChanges.length || definitionChanged) {
    raise('minor')
    changes.push(...configChanges)
    if (definitionChanged && !configChanges.length && !inputChanged) changes.push('Changed the model')
  }
  if (before.name !== after.name) {
    raise('patch')
    changes.push(`Renamed to "${after.name}"`)
  }
  if (before.description !== after.description) {
    raise('patch')
    changes.push('Updated the description')
  }
  if (before.category !== after.category || before.subcategory !== after.subcategory) {
    raise('patch')
    changes.push(`Moved to category ${after.category}${after.subcategory ? `/${after.subcategory}` : ''}`)
  }
  const priceChanges = pricingChanges(before.pricing, after.pricing)
  if (priceChanges.length) {
    raise('patch')
    changes.push(...priceChanges)
  }
  if (!sameJson(before.validation_rules, after.validation_rules)) {
    raise('patch')
    changes.push('Updated the validation rules')
  }
  if (before.status !== after.status) changes.push(after.status === 'published' ? 'Published to the marketplace' : after.status === 'archived' ? 'Archived' : `Status set to ${after.status}`)
  const requires_retraining =
    after.kind === 'model' && RETRAINING_KEYS.some((k) => !sameJson(before.configuration[k], after.configuration[k]))
  return { bump, version: bump ? bumpVersion(current, bump) : current, changes, requires_retraining, definition_changed: definitionChanged }
}
