import { data, Form, redirect, useNavigation } from 'react-router'
import { Button, Field, Logo, Notice } from '#app/components/ui.tsx'
import type { Route } from './+types/login'

export const meta = () => [{ title: 'Log in · Hot Dash' }]

function safeRedirect(to: string | null) {
  return to && to.startsWith('/') && !to.startsWith('//') ? to : '/'
}

export async function loader({ request }: Route.LoaderArgs) {
  const { getSessionCaller } = await import('#app/features/auth/auth.server.ts')
  const { caller, headers } = await getSessionCaller(request)
  if (caller) throw redirect(safeRedirect(new URL(request.url).searchParams.get('redirectTo')), { headers })
  return null
}

export async function action({ request }: Route.ActionArgs) {
  const { startBrowserSession } = await import('#app/features/auth/auth.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const { readFormData } = await import('#app/http/body.server.ts')
  // Anyone can post here: the form is read within the body limit (413 past it), never whole first.
  const form = await readFormData(request).catch((e) => toApiError(e))
  if (!(form instanceof FormData)) return data({ message: form.message, fields: {} as { username?: string; password?: string }, username: '' }, { status: form.status, headers: form.headers })
  const username = String(form.get('username') ?? '').trim()
  const password = String(form.get('password') ?? '')
  const fields: { username?: string; password?: string } = {}
  if (!username) fields.username = 'Enter your username or email'
  if (!password) fields.password = 'Enter your password'
  if (Object.keys(fields).length) return data({ message: null, fields, username }, { status: 400 })
  try {
    const headers = await startBrowserSession(request, username, password)
    return redirect(safeRedirect(String(form.get('redirectTo') ?? '')), { headers })
  } catch (e) {
    const err = toApiError(e)
    return data({ message: err.message, fields: {} as { username?: string; password?: string }, username }, { status: err.status })
  }
}

export default function Login({ actionData }: Route.ComponentProps) {
  const nav = useNavigation()
  const redirectTo = typeof window === 'undefined' ? '' : (new URLSearchParams(window.location.search).get('redirectTo') ?? '')
  return (
    <main className="flex min-h-full items-center justify-center p-6">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="text-2xl">
          <Logo />
        </h1>
        <p className="mt-1 mb-6 text-sm text-slate-600">Log in to your workspace</p>
        <Form method="post" className="flex flex-col gap-4" noValidate>
          {actionData?.message ? <Notice kind="error">{actionData.message}</Notice> : null}
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <Field
            label="Username or email"
            name="username"
            autoComplete="username"
            autoFocus
            defaultValue={actionData?.username}
            error={actionData?.fields?.username}
          />
          <Field label="Password" name="password" type="password" autoComplete="current-password" error={actionData?.fields?.password} />
          <Button type="submit" disabled={nav.state !== 'idle'}>
            {nav.state !== 'idle' ? 'Logging in…' : 'Log in'}
          </Button>
        </Form>
      </div>
    </main>
  )
}
