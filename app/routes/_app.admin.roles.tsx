import { Form } from 'react-router'
import { Button, Card, CsrfInput, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import type { Route } from './+types/_app.admin.roles'

export const meta = () => [{ title: 'Roles & permissions · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { listPermissions, listRoles } = await import('#app/features/auth/auth.server.ts')
  return uiLoader(request, 'rbac.read', async (db, caller) => ({
    roles: (await listRoles(db)).data,
    permissions: (await listPermissions(db)).data,
    canWrite: caller.permissions.has('rbac.write'),
  }))
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction, formObject } = await import('#app/http/ui.server.ts')
  const rbac = await import('#app/features/auth/auth.server.ts')
  const { createPermissionInput, createRoleInput } = await import('#app/features/auth/schemas.ts')
  return uiAction(request, 'rbac.write', async (db, caller, form) => {
    const f = formObject(form)
    switch (form.get('intent')) {
      case 'create-role':
        return rbac.createRole(db, caller, createRoleInput.parse({ ...f, tenant_id: caller.tenantId }))
      case 'create-permission':
        return rbac.createPermission(db, caller, createPermissionInput.parse({ ...f, tenant_id: caller.tenantId }))
      case 'grant':
        return rbac.grantPermission(db, f.role, f.permission)
      default:
        throw new Error('unknown intent')
    }
  })
}

export default function Roles({ loaderData, actionData }: Route.ComponentProps) {
  const { roles, permissions, canWrite } = loaderData
  const fields = actionData && !actionData.ok ? actionData.error.fields : {}
  return (
    <>
      <PageHeader title="Roles & permissions" description="Built-in roles cover most needs; add your own per tenant." />
      {actionData && !actionData.ok ? <Notice kind="error">{actionData.error.message}</Notice> : null}
      {actionData?.ok ? <Notice kind="success">Saved.</Notice> : null}
      <div className="mt-4 grid gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-2" title="Roles">
          <Table headers={['Role', 'Users', 'Permissions']}>
            {roles.map((r) => (
              <tr key={r.id}>
                <td className="px-3 py-2 align-top font-medium">
                  {r.name} {r.is_builtin ? <span className="text-xs text-slate-500">(built-in)</span> : null}
                </td>
                <td className="px-3 py-2 align-top">{r.user_count}</td>
                <td className="px-3 py-2 text-xs text-slate-600">{(r.permissions as string[]).join(', ') || '—'}</td>
              </tr>
            ))}
          </Table>
        </Card>
        {canWrite ? (
          <div className="flex flex-col gap-6">
            <Card title="New role">
              <Form method="post" className="flex flex-col gap-3">
                <CsrfInput />
                <input type="hidden" name="intent" value="create-role" />
                <Field label="Role name" name="name" placeholder="e.g. analyst" error={fields.name} />
                <Button type="submit">Create role</Button>
              </Form>
            </Card>
            <Card title="New permission">
              <Form method="post" className="flex flex-col gap-3">
                <CsrfInput />
                <input type="hidden" name="intent" value="create-permission" />
                <Field label="Permission name" name="name" placeholder="e.g. can_delete_dataset" error={fields.name} />
                <Button type="submit">Create permission</Button>
              </Form>
            </Card>
            <Card title="Grant a permission to a role">
              <Form method="post" className="flex flex-col gap-3">
                <CsrfInput />
                <input type="hidden" name="intent" value="grant" />
                <label className="text-sm font-medium">
                  Role
                  <select name="role" className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-2">
                    {roles.map((r) => (
                      <option key={r.id} value={r.id}>
                        {r.name}
                      </option>
                    ))}
                  </select>
                </label>
                <label className="text-sm font-medium">
                  Permission
                  <select name="permission" className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-2">
                    {permissions.map((p) => (
                      <option key={p.id} value={p.id}>
                        {p.name}
                      </option>
                    ))}
                  </select>
                </label>
                <Button type="submit">Grant</Button>
              </Form>
            </Card>
          </div>
        ) : null}
      </div>
    </>
  )
}
