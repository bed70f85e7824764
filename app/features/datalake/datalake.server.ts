import { z } from 'zod'
import { withoutNul } from '#app/http/schemas.ts'
import type { Sql } from '#app/db/db.server.ts'
import { ApiError, notFound } from '#app/http/errors.server.ts'

/**
 * The datalake (spec §11): the bronze/silver/gold schemas and the tables registered to the caller's tenant.
 * Every call goes through a security-definer SQL function that resolves the names against the tenant's
 * registry and the catalog before it builds any SQL (with format('%I')), so names are data, never SQL.
 */

/** A table or column name as a query parameter: text Postgres can hold (a NUL byte made the lookup a 500). */
export const lakeName = z.string().min(1).max(128).refine(withoutNul, 'must not contain NUL characters')

export const SCHEMAS = ['bronze', 'silver', 'gold'] as const
export type LakeSchema = (typeof SCHEMAS)[number]
const DESCRIPTIONS: Record<LakeSchema, string> = {
  bronze: 'Raw uploaded rows, every value as text, valid and invalid',
  silver: 'Validated rows, typed per template (valid rows only)',
  gold: 'Model outputs: predictions and forecasts',
}

/** Postgres "no such table/column" and "not numeric" as the API's 404/400. */
async function run<T>(fn: () => Promise<T>, what: { schema: string; table: string; column?: string }): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'P0002') throw notFound(what.column ? 'Column' : 'Table', what.column ? `${what.schema}.${what.table}.${what.column}` : `${what.schema}.${what.table}`)
    if (code === '22023') throw new ApiError(400, 'VALIDATION_ERROR', `column_name: ${(e as Error).message}`, { fields: [{ field: 'column_name', message: (e as Error).message }] })
    throw e
  }
}

export async function listSchemas(sql: Sql) {
  const data = []
  for (const s of SCHEMAS) {
    const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from app.datalake_tables($1)`, [s])
    data.push({ schema_name: s, description: DESCRIPTIONS[s], table_count: rows[0].n })
  }
  return { total: data.length, data }
}

export async function listTables(sql: Sql, schema: LakeSchema) {
  const { rows } = await sql.query(
    `select display_name as table_name, table_name as physical_table, dataset_id, row_estimate, created_at from app.datalake_tables($1)`,
    [schema],
  )
  return { schema, total: rows.length, data: rows }
}

export async function tableColumns(sql: Sql, schema: LakeSchema, table: string) {
  const { rows } = await run(() => sql.query(`select column_name, data_type from app.datalake_columns($1, $2) order by ordinal`, [schema, table]), { schema, table })
  return rows
}

export async function tableMetadata(sql: Sql, schema: LakeSchema, table: string) {
  const { rows } = await run(() => sql.query<{ m: Record<string, unknown> }>(`select app.datalake_table_metadata($1, $2) as m`, [schema, table]), { schema, table })
  await sql.query(`select app.datalake_touch($1, $2)`, [schema, table])
  return rows[0].m
}

export async function numericStats(sql: Sql, schema: LakeSchema, table: string, column: string) {
  const { rows } = await run(() => sql.query<{ m: Record<string, unknown> }>(`select app.datalake_numeric_stats($1, $2, $3) as m`, [schema, table, column]), { schema, table, column })
  await sql.query(`select app.datalake_touch($1, $2)`, [schema, table])
  return rows[0].m
}

export async function distinctCount(sql: Sql, schema: LakeSchema, table: string, column: string) {
  const { rows } = await run(() => sql.query<{ m: Record<string, unknown> }>(`select app.datalake_distinct_count($1, $2, $3) as m`, [schema, table, column]), { schema, table, column })
  await sql.query(`select app.datalake_touch($1, $2)`, [schema, table])
  return rows[0].m
}
