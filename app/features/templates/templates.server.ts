import type { Sql } from '#app/db/db.server.ts'
import { ApiError, conflict, notFound } from '#app/http/errors.server.ts'
import type { TemplateInput } from './schemas.ts'
import { validateTemplateSchema, type ColumnSpec } from './template-schema.ts'

/**
 * The templates area's public surface (spec §5): the columns a CSV must have, with types and optional defaults.
 * Routes, pages and other areas import the database side from here; the pure rules (column-types.ts,
 * template-schema.ts) and the inputs (schemas.ts) are plain modules anyone may import. README.md is the map.
 */

const SUMMARY = `
  select t.template_name, t.id, t.tenant_id, jsonb_array_length(t.template_schema) as no_of_columns,
         t.created_by_name as created_by, t.created_at, t.modified_at, t.modified_by_name as modified_by`

function checkedColumns(input: TemplateInput): ColumnSpec[] {
  const r = validateTemplateSchema(input.template_schema)
  if (!r.ok) {
    const first = r.issues[0]
    throw new ApiError(400, 'VALIDATION_ERROR', `${first.field}: ${first.message}`, { location: 'body', fields: r.issues })
  }
  return r.columns
}

async function nameTaken(sql: Sql, name: string, exceptId?: number) {
  const { rows } = await sql.query(`select 1 from public.templates where lower(template_name) = lower($1) and id is distinct from $2`, [name, exceptId ?? null])
  return rows.length > 0
}

export async function createTemplate(sql: Sql, tenantId: string, input: TemplateInput) {
  const columns = checkedColumns(input)
  if (await nameTaken(sql, input.template_name)) throw conflict(`A template named '${input.template_name}' already exists`, { field: 'template_name' })
  const { rows } = await sql.query<{ id: number }>(
    `insert into public.templates (tenant_id, template_name, template_schema) values ($1, $2, $3::jsonb) returning id`,
    [tenantId, input.template_name, JSON.stringify(columns)],
  )
  return getTemplate(sql, rows[0].id)
}

export async function listTemplates(sql: Sql) {
  const { rows } = await sql.query(`${SUMMARY} from public.templates t order by t.id`)
  return { total: rows.length, data: rows }
}

export async function getTemplate(sql: Sql, id: number) {
  const { rows } = await sql.query(`${SUMMARY}, t.template_schema from public.templates t where t.id = $1`, [id])
  if (!rows.length) throw notFound('Template', id)
  return rows[0]
}

export async function updateTemplate(sql: Sql, id: number, input: TemplateInput) {
  const columns = checkedColumns(input)
  await getTemplate(sql, id)
  if (await nameTaken(sql, input.template_name, id)) throw conflict(`A template named '${input.template_name}' already exists`, { field: 'template_name' })
  const { rows } = await sql.query<{ template_name: string; template_schema: ColumnSpec[] }>(
    `update public.templates set template_name = $2, template_schema = $3::jsonb where id = $1 returning template_name, template_schema`,
    [id, input.template_name, JSON.stringify(columns)],
  )
  if (!rows.length) throw notFound('Template', id)
  return rows[0]
}

/** Refused with 409 while datasets use the template (their names are in the details). */
export async function deleteTemplate(sql: Sql, id: number) {
  const t = await getTemplate(sql, id)
  const { rows: users } = await sql.query<{ id: number; dataset_name: string }>(
    `select id, dataset_name from public.datasets where template_id = $1 order by id`,
    [id],
  )
  if (users.length) {
    throw conflict(
      `Template ${id} is used by ${users.length} dataset(s) (${users.slice(0, 5).map((u) => `'${u.dataset_name}'`).join(', ')}${users.length > 5 ? ', …' : ''}); delete them first`,
      { datasets: users },
    )
  }
  const { rowCount } = await sql.query(`delete from public.templates where id = $1`, [id])
  if (!rowCount) throw notFound('Template', id)
  return { status: 'success', message: `Template '${t.template_name}' deleted`, id }
}
