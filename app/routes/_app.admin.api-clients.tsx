import { Form } from 'react-router'
import { ActionForm, Button, Card, CsrfInput, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { useRootData } from '#app/root.tsx'
import type { Route } from './+types/_app.admin.api-clients'

export const meta = () => [{ title: 'API clients & keys · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { listApiClients } = await import('#app/features/auth/auth.server.ts')
  return uiLoader(request, 'api_clients.manage', async (db) => ({ clients: await listApiClients(db) }))
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction, formObject } = await import('#app/http/ui.server.ts')
  const keys = await import('#app/features/auth/auth.server.ts')
  const { registerClientInput } = await import('#app/features/auth/schemas.ts')
  const res = await uiAction(request, 'api_clients.manage', async (db, caller, form) => {
    switch (form.get('intent')) {
      case 'revoke-client':
        return keys.revokeApiClient(db, String(form.get('id')))
      case 'revoke-key':
        return keys.revokeApiKey(db, String(form.get('id')))
      default: {
        const input = registerClientInput.parse({ ...formObject(form), scopes: form.getAll('scopes').map(String) })
        return { client: await keys.registerApiClient(db, caller, input), wantsKey: form.get('issue_key') === 'on' }
      }
    }
  })
  const d = res.data as { ok: boolean; result?: { client?: { client_id: string; client_secret: string }; wantsKey?: boolean; issued?: unknown } }
  if (d.ok && d.result?.wantsKey && d.result.client) d.result.issued = await keys.issueFirstKey(d.result.client)
  return res
}

export default function ApiClients({ loaderData, actionData }: Route.ComponentProps) {
  const root = useRootData()
  const scopes = root?.user?.permissions ?? []
  const result = actionData?.ok ? (actionData.result as { client?: { client_id: string; client_secret: string; name: string }; issued?: { api_key: string } | null }) : null
  const fields = actionData && !actionData.ok ? actionData.error.fields : {}
  return (
    <>
      <PageHeader title="API clients & keys" description="Programmatic access. Secrets and keys are shown once, then only their hashes are kept." />
      {result?.client ? (
        <Notice kind="success">
          <p className="font-semibold">Client “{result.client.name}” registered. Copy these now — they will not be shown again.</p>
          <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 font-mono text-xs break-all">
            <dt>client_id</dt>
            <dd data-testid="client-id">{result.client.client_id}</dd>
            <dt>client_secret</dt>
            <dd data-testid="client-secret">{result.client.client_secret}</dd>
            {result.issued ? (
              <>
                <dt>api_key</dt>
                <dd data-testid="api-key">{result.issued.api_key}</dd>
              </>
            ) : null}
          </dl>
        </Notice>
      ) : null}
      {actionData && !actionData.ok && !Object.keys(fields).length ? <Notice kind="error">{actionData.error.message}</Notice> : null}
      <div className="mt-4 grid gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-2" title="Clients">
          {loaderData.clients.length === 0 ? (
            <EmptyState title="No API clients yet">Register one to let a program call the API.</EmptyState>
          ) : (
            <Table headers={['Name', 'client_id', 'Scopes', 'Keys', '']}>
              {loaderData.clients.map((c) => (
                <tr key={c.id} className={c.revoked_at ? 'text-slate-400' : ''}>
                  <td className="px-3 py-2 font-medium">{c.name}</td>
                  <td className="px-3 py-2 font-mono text-xs">{c.client_id}</td>
                  <td className="px-3 py-2 text-xs">{(c.allowed_scopes as string[]).join(', ')}</td>
                  <td className="px-3 py-2 text-xs">
                    {(c.keys as { id: string; prefix: string; revoked_at: string | null; expires_at: string }[]).map((k) => (
                      <div key={k.id} className="flex items-center gap-2">
                        <span className="font-mono">{k.prefix}…</span>
                        {k.revoked_at ? 'revoked' : <ActionForm intent="revoke-key" fields={{ id: k.id }} label="Revoke key" confirm="Revoke this key?" variant="danger" />}
                      </div>
                    ))}
                  </td>
                  <td className="px-3 py-2 text-right">
                    {c.revoked_at ? 'revoked' : <ActionForm intent="revoke-client" fields={{ id: c.id }} label="Revoke" confirm={`Revoke ${c.name} and all its keys?`} variant="danger" />}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Card>
        <Card title="Register a client">
          <Form method="post" className="flex flex-col gap-3" noValidate>
            <CsrfInput />
            <input type="hidden" name="intent" value="create" />
            <Field label="Name" name="name" error={fields.name} />
            <fieldset>
              <legend className="text-sm font-medium text-slate-700">Scopes</legend>
              <div className="mt-1 grid max-h-56 grid-cols-1 gap-1 overflow-y-auto text-sm">
                {scopes.map((s) => (
                  <label key={s} className="flex items-center gap-1">
                    <input type="checkbox" name="scopes" value={s} defaultChecked={s === 'analytics.read'} /> {s}
                  </label>
                ))}
              </div>
              {fields.scopes ? <p className="text-xs text-rose-600">{fields.scopes}</p> : null}
            </fieldset>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" name="issue_key" defaultChecked /> Also issue an API key now
            </label>
            <Button type="submit">Register</Button>
          </Form>
        </Card>
      </div>
    </>
  )
}
