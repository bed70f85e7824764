import { Link, useSearchParams } from 'react-router'
import { Card, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import type { Route } from './+types/_app.datalake'

export const meta = () => [{ title: 'Datalake · Hot Dash' }]

const NUMERIC = new Set(['bigint', 'integer', 'double', 'decimal'])

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const lake = await import('#app/features/datalake/datalake.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const url = new URL(request.url)
  const schemaParam = url.searchParams.get('schema')
  const schema = lake.SCHEMAS.find((s) => s === schemaParam) ?? null
  const table = schema ? url.searchParams.get('table') : null
  const column = table ? url.searchParams.get('column') : null
  return uiLoader(request, 'datalake.read', async (db) => {
    const out = {
      schemas: (await lake.listSchemas(db)).data,
      schema,
      table,
      column,
      tables: schema ? (await lake.listTables(db, schema)).data : [],
      columns: [] as { column_name: string; data_type: string }[],
      metadata: null as Record<string, unknown> | null,
      stats: null as Record<string, unknown> | null,
      distinct: null as Record<string, unknown> | null,
      error: null as string | null,
    }
    try {
      if (schema && table) {
        out.columns = (await lake.tableColumns(db, schema, table)) as typeof out.columns
        out.metadata = await lake.tableMetadata(db, schema, table)
        if (column) {
          const type = out.columns.find((c) => c.column_name === column)?.data_type
          out.distinct = await lake.distinctCount(db, schema, table, column)
          if (type && NUMERIC.has(type)) out.stats = await lake.numericStats(db, schema, table, column)
        }
      }
    } catch (e) {
      out.error = toApiError(e).message
    }
    return out
  })
}

const fmt = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(6))) : String(v))

export default function Datalake({ loaderData }: Route.ComponentProps) {
  const { schemas, schema, table, column, tables, columns, metadata, stats, distinct, error } = loaderData
  const [params] = useSearchParams()
  const link = (patch: Record<string, string | null>) => {
    const q = new URLSearchParams(params)
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) q.delete(k)
      else q.set(k, v)
    }
    return `?${q}`
  }
  return (
    <>
      <PageHeader title="Datalake" description="Bronze (raw), silver (validated, typed) and gold (model outputs) tables of your tenant." />
      {error ? <Notice kind="error">{error}</Notice> : null}
      <div className="mt-4 grid gap-6 lg:grid-cols-4">
        <Card title="Schemas">
          <ul className="flex flex-col gap-1">
            {schemas.map((s) => (
              <li key={s.schema_name}>
                <Link
                  to={link({ schema: s.schema_name, table: null, column: null })}
                  className={`block rounded px-2 py-1 text-sm ${schema === s.schema_name ? 'bg-indigo-50 font-semibold' : 'hover:bg-slate-50'}`}
                >
                  {s.schema_name} <span className="text-slate-500">({s.table_count})</span>
                  <span className="block text-xs font-normal text-slate-500">{s.description}</span>
                </Link>
              </li>
            ))}
          </ul>
        </Card>
        <Card title={schema ? `Tables in ${schema}` : 'Tables'}>
          {!schema ? (
            <p className="text-sm text-slate-500">Pick a schema.</p>
          ) : tables.length ? (
            <ul className="flex flex-col gap-1">
              {tables.map((t: any) => (
                <li key={t.table_name}>
                  <Link
                    to={link({ table: t.table_name, column: null })}
                    className={`block rounded px-2 py-1 text-sm ${table === t.table_name ? 'bg-indigo-50 font-semibold' : 'hover:bg-slate-50'}`}
                  >
                    {t.table_name} <span className="text-xs text-slate-500">~{t.row_estimate} rows</span>
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <EmptyState title="No tables" />
          )}
        </Card>
        <Card title="Columns" className="lg:col-span-2">
          {table && columns.length ? (
            <>
              <Table headers={['Column', 'Type']}>
                {columns.map((c) => (
                  <tr key={c.column_name} className={column === c.column_name ? 'bg-indigo-50' : ''}>
                    <td className="px-3 py-1">
                      <Link className="text-indigo-700 underline" to={link({ column: c.column_name })}>
                        {c.column_name}
                      </Link>
                    </td>
                    <td className="px-3 py-1">{c.data_type}</td>
                  </tr>
                ))}
              </Table>
              {metadata ? (
                <dl className="mt-4 grid grid-cols-2 gap-x-4 gap-y-1 text-sm">
                  {['owner', 'created_time', 'last_access_time', 'location', 'format', 'row_count', 'size_bytes'].map((k) => (
                    <div key={k} className="contents">
                      <dt className="text-slate-500">{k}</dt>
                      <dd className="break-all">{fmt(metadata[k])}</dd>
                    </div>
                  ))}
                </dl>
              ) : null}
            </>
          ) : (
            <p className="text-sm text-slate-500">Pick a table.</p>
          )}
          {column && (stats || distinct) ? (
            <div className="mt-4 rounded border border-slate-200 p-3" data-testid="column-stats">
              <p className="mb-2 font-medium">{column}</p>
              <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm">
                {distinct ? (
                  <>
                    <dt className="text-slate-500">distinct</dt>
                    <dd>{fmt(distinct.distinct_count)}</dd>
                    <dt className="text-slate-500">nulls</dt>
                    <dd>{fmt(distinct.null_count)}</dd>
                  </>
                ) : null}
                {stats
                  ? ['count', 'mean', 'std_dev', 'min', 'max', 'median'].map((k) => (
                      <div key={k} className="contents">
                        <dt className="text-slate-500">{k}</dt>
                        <dd>{fmt(stats[k])}</dd>
                      </div>
                    ))
                  : null}
              </dl>
            </div>
          ) : null}
        </Card>
      </div>
    </>
  )
}
