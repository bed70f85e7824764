import type { Sql } from '#app/db/db.server.ts'
import { ident } from '#app/features/datasets/datasets.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { modelContext, targetOf, type ModelContext } from './model.server.ts'
import { withServerRole } from './server-role.server.ts'

/*
  GET /api/v1/inference/form-based-prediction?id= (spec §9.3): the model's input columns with their types and a
  default for each: the template's default value when it has one, else the training data's median (numbers, dates)
  or mode (strings, booleans), computed in SQL on the training dataset's silver rows. Also the categories a string
  column was trained on, so a form can offer them. Cached per model version (the data it was trained on is fixed).
*/

interface FormHeader {
  column_name: string
  data_type: string
  default_value: string | null
  /** Extensions: where the default came from, and the categories seen in training (String columns). */
  default_source: 'template' | 'median' | 'mode' | null
  options: string[] | null
  required: true
}

const cache = new Map<string, Record<string, { value: string | null; source: 'median' | 'mode' | null }>>()

async function trainingDefaults(sql: Sql, ctx: ModelContext): Promise<Record<string, { value: string | null; source: 'median' | 'mode' | null }>> {
  const key = `${ctx.training.tenant_id}:${ctx.version.id}`
  const hit = cache.get(key)
  if (hit) return hit
  const out: Record<string, { value: string | null; source: 'median' | 'mode' | null }> = {}
  const cols = ctx.spec.columns
  for (const c of cols) out[c.column] = { value: null, source: null }
  if (ctx.training.dataset_id === null) return out
  const datasetId = ctx.training.dataset_id
  const tenantId = ctx.training.tenant_id
  const table = await withServerRole(sql, async () => {
    const { rows } = await sql.query<{ table_name: string }>(
      `select r.table_name from public.dataset_tables r where r.dataset_id = $1 and r.tenant_id = $2 and r.schema_name = 'silver'`,
      [datasetId, tenantId],
    )
    return rows[0]?.table_name ?? null
  })
  if (!table) return out
  const exprs = cols.map((c, i) => {
    const q = ident(c.column)
    switch (c.data_type) {
      case 'Integer':
      case 'Date':
      case 'DateTime':
        return `(percentile_disc(0.5) within group (order by ${q}))::text as c${i}`
      case 'Float':
        return `(percentile_cont(0.5) within group (order by ${q}))::text as c${i}`
      default:
        return `(mode() within group (order by ${q}))::text as c${i}`
    }
  })
  const values = await withServerRole(sql, async () => {
    // The columns may have gone from the table (a dataset re-created under the name): no defaults then.
    const { rows: present } = await sql.query<{ n: number }>(
      `select count(*)::int as n from pg_catalog.pg_attribute where attrelid = ('silver.' || $1)::regclass and attname = any($2::text[]) and not attisdropped`,
      [ident(table), cols.map((c) => c.column)],
    )
    if (present[0].n !== cols.length) return null
    const { rows } = await sql.query<Record<string, string | null>>(`select ${exprs.join(', ')} from silver.${ident(table)}`)
    return rows[0]
  })
  if (values) {
    cols.forEach((c, i) => {
      let v = values[`c${i}`]
      if (v !== null && c.data_type === 'Boolean') v = v === 't' || v === 'true' ? 'true' : 'false'
      if (v !== null && c.data_type === 'DateTime') v = new Date(v.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00')).toISOString()
      out[c.column] = { value: v, source: v === null ? null : c.data_type === 'String' || c.data_type === 'Boolean' ? 'mode' : 'median' }
    })
  }
  if (cache.size > 256) cache.delete(cache.keys().next().value!)
  cache.set(key, out)
  return out
}

export async function formBasedPrediction(sql: Sql, id: number) {
  const ctx = await modelContext(sql, id, { field: 'id' })
  // The template's defaults, as the dataset carries them (a dataset the caller cannot read gives none).
  const { rows: ds } = ctx.training.dataset_id === null ? { rows: [] } : await sql.query<{ columns: ColumnSpec[] }>(`select columns from public.datasets where id = $1`, [ctx.training.dataset_id])
  const template = new Map((ds[0]?.columns ?? []).map((c) => [c.column_name, c.default_value]))
  const trained = await trainingDefaults(sql, ctx)
  const headers: FormHeader[] = ctx.spec.columns.map((c) => {
    const t = template.get(c.column)
    const fromTemplate = t !== undefined && t !== null && t !== ''
    return {
      column_name: c.column,
      data_type: c.data_type,
      default_value: fromTemplate ? String(t) : trained[c.column].value,
      default_source: fromTemplate ? 'template' : trained[c.column].source,
      options: c.encoding === 'onehot' || c.encoding === 'ordinal' ? c.categories.slice(0, 200) : null,
      required: true,
    }
  })
  return {
    id: ctx.training.id,
    headers,
    target: targetOf(ctx.training),
    preprocess_id: ctx.preprocessId,
    // Extensions: what the form predicts with.
    predictor_name: ctx.training.predictor_name,
    problem_type: ctx.training.problem_type,
    classes: ctx.spec.target.classes,
    model_id: ctx.version.id,
    model: ctx.version.model_name,
  }
}
