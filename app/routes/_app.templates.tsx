import { useState } from 'react'
import { Form, Link, useNavigation } from 'react-router'
import { ActionForm, Button, Card, CsrfInput, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { DATA_TYPES } from '#app/features/templates/column-types.ts'
import type { Route } from './+types/_app.templates'

export const meta = () => [{ title: 'Templates · Hot Dash' }]

interface Column {
  column_name: string
  data_type: string
  default_value: string | null
}

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const t = await import('#app/features/templates/templates.server.ts')
  const edit = Number(new URL(request.url).searchParams.get('edit')) || null
  return uiLoader(request, 'templates.read', async (db, caller) => ({
    templates: (await t.listTemplates(db)).data as {
      id: number
      template_name: string
      no_of_columns: number
      created_by: string
      modified_at: string
    }[],
    editing: edit ? ((await t.getTemplate(db, edit).catch(() => null)) as { id: number; template_name: string; template_schema: Column[] } | null) : null,
    canWrite: caller.permissions.has('templates.write'),
  }))
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction } = await import('#app/http/ui.server.ts')
  const t = await import('#app/features/templates/templates.server.ts')
  const { templateInput } = await import('#app/features/templates/schemas.ts')
  const { badRequest } = await import('#app/http/errors.server.ts')
  return uiAction(request, 'templates.write', async (db, caller, form) => {
    const intent = form.get('intent')
    const id = Number(form.get('id'))
    if (intent === 'delete') return t.deleteTemplate(db, id)
    let schema: unknown
    try {
      schema = JSON.parse(String(form.get('template_schema') ?? '[]'))
    } catch {
      throw badRequest('template_schema', 'is not valid JSON')
    }
    const input = templateInput.parse({ template_name: form.get('template_name'), template_schema: schema })
    return intent === 'update' ? t.updateTemplate(db, id, input) : t.createTemplate(db, caller.tenantId, input)
  })
}

const blank = (): Column => ({ column_name: '', data_type: 'String', default_value: null })

function ColumnsEditor({ columns, setColumns, errors }: { columns: Column[]; setColumns: (c: Column[]) => void; errors: Record<string, string> }) {
  const update = (i: number, patch: Partial<Column>) => setColumns(columns.map((c, j) => (j === i ? { ...c, ...patch } : c)))
  return (
    <div className="flex flex-col gap-2">
      <div className="grid grid-cols-[1fr_9rem_1fr_auto] gap-2 text-xs font-semibold text-slate-600">
        <span>Column name</span>
        <span>Type</span>
        <span>Default (optional)</span>
        <span className="sr-only">Remove</span>
      </div>
      {columns.map((c, i) => {
        const err = errors[`template_schema[${i}].column_name`] ?? errors[`template_schema[${i}].data_type`] ?? errors[`template_schema[${i}].default_value`]
        return (
          <div key={i}>
            <div className="grid grid-cols-[1fr_9rem_1fr_auto] gap-2">
              <input
                aria-label={`Column ${i + 1} name`}
                className="rounded-md border border-slate-300 px-2 py-1.5 text-sm"
                value={c.column_name}
                onChange={(e) => update(i, { column_name: e.target.value })}
              />
              <select
                aria-label={`Column ${i + 1} type`}
                className="rounded-md border border-slate-300 px-2 py-1.5 text-sm"
                value={c.data_type}
                onChange={(e) => update(i, { data_type: e.target.value })}
              >
                {DATA_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
              <input
                aria-label={`Column ${i + 1} default`}
                className="rounded-md border border-slate-300 px-2 py-1.5 text-sm"
                value={c.default_value ?? ''}
                onChange={(e) => update(i, { default_value: e.target.value === '' ? null : e.target.value })}
              />
              <Button type="button" variant="secondary" aria-label={`Remove column ${i + 1}`} onClick={() => setColumns(columns.filter((_, j) => j !== i))}>
                ✕
              </Button>
            </div>
            {err ? <p className="mt-1 text-xs text-rose-600">{err}</p> : null}
          </div>
        )
      })}
      <div>
        <Button type="button" variant="secondary" onClick={() => setColumns([...columns, blank()])}>
          + Add column
        </Button>
      </div>
    </div>
  )
}

export default function Templates({ loaderData, actionData }: Route.ComponentProps) {
  const { templates, editing, canWrite } = loaderData
  const [name, setName] = useState(editing?.template_name ?? '')
  const [columns, setColumns] = useState<Column[]>(editing?.template_schema ?? [blank()])
  const nav = useNavigation()
  // Switching between "new" and "edit X" (a navigation) resets the form; typing does not.
  const editingId = editing?.id
  const [shownId, setShownId] = useState(editingId)
  if (shownId !== editingId) {
    setShownId(editingId)
    setName(editing?.template_name ?? '')
    setColumns(editing?.template_schema ?? [blank()])
  }
  const errors = actionData && !actionData.ok ? actionData.error.fields : {}
  return (
    <>
      <PageHeader title="Templates" description="The columns a dataset's CSV must have: names, types (String, Integer, Float, Boolean, Date, DateTime) and defaults for empty cells." />
      {actionData && !actionData.ok ? <Notice kind="error">{actionData.error.message}</Notice> : null}
      {actionData?.ok ? <Notice kind="success">Saved.</Notice> : null}
      <div className="mt-4 grid gap-6 xl:grid-cols-5">
        <Card className="xl:col-span-2" title="Your templates">
          {templates.length ? (
            <Table headers={['Name', 'Columns', 'By', '']}>
              {templates.map((t) => (
                <tr key={t.id}>
                  <td className="px-3 py-2 font-medium">{t.template_name}</td>
                  <td className="px-3 py-2">{t.no_of_columns}</td>
                  <td className="px-3 py-2 text-slate-600">{t.created_by}</td>
                  <td className="px-3 py-2 text-right">
                    {canWrite ? (
                      <span className="inline-flex gap-2">
                        <Link className="text-sm text-indigo-700 underline" to={`?edit=${t.id}`}>
                          Edit
                        </Link>
                        <ActionForm intent="delete" fields={{ id: String(t.id) }} label="Delete" confirm="Delete?" variant="danger" />
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </Table>
          ) : (
            <EmptyState title="No templates yet">Create one to validate uploads against it.</EmptyState>
          )}
        </Card>
        {canWrite ? (
          <Card className="xl:col-span-3" title={editing ? `Edit '${editing.template_name}'` : 'New template'}>
            <Form method="post" className="flex flex-col gap-4">
              <CsrfInput />
              <input type="hidden" name="intent" value={editing ? 'update' : 'create'} />
              {editing ? <input type="hidden" name="id" value={editing.id} /> : null}
              <input type="hidden" name="template_schema" value={JSON.stringify(columns)} />
              <Field label="Template name" name="template_name" value={name} onChange={(e) => setName(e.target.value)} error={errors.template_name} required />
              <ColumnsEditor columns={columns} setColumns={setColumns} errors={errors} />
              <div className="flex gap-2">
                <Button type="submit" disabled={nav.state !== 'idle'}>
                  {editing ? 'Save changes' : 'Create template'}
                </Button>
                {editing ? (
                  <Link to="/templates" className="self-center text-sm underline">
                    Cancel
                  </Link>
                ) : null}
              </div>
            </Form>
          </Card>
        ) : null}
      </div>
    </>
  )
}
