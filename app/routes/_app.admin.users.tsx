import { useEffect, useRef } from 'react'
import { Form, useNavigation } from 'react-router'
import { ActionForm, Button, Card, CsrfInput, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CsvButton } from '#app/features/analytics/components.tsx'
import type { Route } from './+types/_app.admin.users'

export const meta = () => [{ title: 'Users · Hot Dash' }]

const PAGE = 50

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { listUsers } = await import('#app/features/auth/auth.server.ts')
  const { listRoles } = await import('#app/features/auth/auth.server.ts')
  const skip = Math.max(0, Number(new URL(request.url).searchParams.get('skip')) || 0)
  return uiLoader(request, 'users.read', async (db, caller) => ({
    users: await listUsers(db, { skip, limit: PAGE }),
    roles: caller.permissions.has('rbac.read') ? (await listRoles(db)).data.map((r) => r.name as string) : [],
    canWrite: caller.permissions.has('users.write'),
    tenantId: caller.tenantId,
    me: caller.userId,
  }))
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction, formObject } = await import('#app/http/ui.server.ts')
  const users = await import('#app/features/auth/auth.server.ts')
  const { createUserInput } = await import('#app/features/auth/schemas.ts')
  return uiAction(request, 'users.write', async (db, caller, form) => {
    const intent = form.get('intent')
    if (intent === 'deactivate' || intent === 'activate') return users.setUserActive(db, caller, String(form.get('id')), intent === 'activate')
    const f = formObject(form)
    const input = createUserInput.parse({ ...f, tenant_id: caller.tenantId, roles: form.getAll('roles').map(String) })
    return users.createUser(db, caller, input)
  })
}

export default function Users({ loaderData, actionData }: Route.ComponentProps) {
  const { users, roles, canWrite, me } = loaderData
  const nav = useNavigation()
  const formRef = useRef<HTMLFormElement>(null)
  const fields = actionData && !actionData.ok ? actionData.error.fields : {}
  const created = actionData?.ok && actionData.result && 'username' in actionData.result ? actionData.result : null
  useEffect(() => {
    if (created) formRef.current?.reset()
  }, [created])
  return (
    <>
      <PageHeader title="Users" description={`${users.count} user(s) in your tenant`} />
      <div className="grid gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-2">
          <Table headers={['Username', 'Email', 'Name', 'Roles', 'Status', '']}>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td className="px-3 py-2 font-medium">{u.username}</td>
                <td className="px-3 py-2">{u.email}</td>
                <td className="px-3 py-2">{[u.first_name, u.last_name].filter(Boolean).join(' ')}</td>
                <td className="px-3 py-2">{(u.roles as string[]).join(', ')}</td>
                <td className="px-3 py-2">{u.is_active ? 'active' : 'inactive'}</td>
                <td className="px-3 py-2 text-right">
                  {canWrite && u.user_id !== me ? (
                    <ActionForm
                      intent={u.is_active ? 'deactivate' : 'activate'}
                      fields={{ id: String(u.id) }}
                      label={u.is_active ? 'Deactivate' : 'Activate'}
                      confirm={u.is_active ? `Deactivate ${u.username}?` : undefined}
                      variant={u.is_active ? 'danger' : 'secondary'}
                    />
                  ) : null}
                </td>
              </tr>
            ))}
          </Table>
          <div className="mt-3">
            <CsvButton
              name="users"
              rows={users.data.map((u) => ({ username: u.username, email: u.email, first_name: u.first_name ?? '', last_name: u.last_name ?? '', roles: (u.roles as string[]).join(' '), active: u.is_active }))}
            />
          </div>
          <nav aria-label="Pages" className="mt-4 flex gap-3 text-sm">
            {users.skip > 0 ? <a href={`?skip=${Math.max(0, users.skip - PAGE)}`}>← Previous</a> : null}
            {users.skip + PAGE < users.count ? <a href={`?skip=${users.skip + PAGE}`}>Next →</a> : null}
          </nav>
        </Card>
        {canWrite ? (
          <Card title="Create a user">
            <Form method="post" ref={formRef} className="flex flex-col gap-3" noValidate>
              <CsrfInput />
              {actionData && !actionData.ok && !Object.keys(fields).length ? <Notice kind="error">{actionData.error.message}</Notice> : null}
              {created ? <Notice kind="success">Created {String(created.username)}.</Notice> : null}
              <Field label="Username" name="username" required error={fields.username} />
              <Field label="Email" name="email" type="email" required error={fields.email} />
              <Field label="First name" name="first_name" error={fields.first_name} />
              <Field label="Last name" name="last_name" error={fields.last_name} />
              <Field label="Password" name="password" type="password" required error={fields.password} hint="At least 8 characters" />
              <fieldset>
                <legend className="text-sm font-medium text-slate-700">Roles</legend>
                <div className="mt-1 flex flex-wrap gap-3">
                  {roles.map((r) => (
                    <label key={r} className="flex items-center gap-1 text-sm">
                      <input type="checkbox" name="roles" value={r} defaultChecked={r === 'viewer'} /> {r}
                    </label>
                  ))}
                </div>
                {fields.roles ? <p className="text-xs text-rose-600">{fields.roles}</p> : null}
              </fieldset>
              <Button type="submit" disabled={nav.state !== 'idle'}>
                Create user
              </Button>
            </Form>
          </Card>
        ) : null}
      </div>
    </>
  )
}
