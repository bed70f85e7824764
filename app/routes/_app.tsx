import { useState } from 'react'
import { Form, NavLink, Outlet, useNavigation } from 'react-router'
import { navFor } from '#app/components/nav.ts'
import { GeneralErrorBoundary } from '#app/components/error-boundary.tsx'
import { CsrfInput, Logo } from '#app/components/ui.tsx'
import type { Route } from './+types/_app'

export async function loader({ request }: Route.LoaderArgs) {
  const { requireCaller } = await import('#app/features/auth/auth.server.ts')
  const { caller } = await requireCaller(request)
  return { nav: navFor([...caller.permissions]) }
}

export default function AppLayout({ loaderData }: Route.ComponentProps) {
  const [open, setOpen] = useState(false)
  const navigation = useNavigation()
  const groups = [...new Set(loaderData.nav.map((n) => n.group))]
  return (
    <div className="min-h-full md:flex">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:p-2">
        Skip to content
      </a>
      <aside className="border-b border-slate-200 bg-slate-900 text-slate-100 md:min-h-screen md:w-60 md:border-b-0">
        <div className="flex items-center justify-between px-4 py-4">
          <NavLink to="/" className="text-lg font-bold tracking-tight">
            <Logo className="text-lg" />
          </NavLink>
          <button
            type="button"
            className="rounded px-2 py-1 text-sm md:hidden"
            aria-expanded={open}
            aria-controls="main-nav"
            onClick={() => setOpen((o) => !o)}
          >
            Menu
          </button>
        </div>
        <nav id="main-nav" aria-label="Main" className={`${open ? 'block' : 'hidden'} px-2 pb-4 md:block`}>
          {groups.map((g) => (
            <div key={g} className="mb-4">
              <p className="px-2 text-xs font-semibold uppercase tracking-wide text-slate-400">{g}</p>
              <ul className="mt-1">
                {loaderData.nav
                  .filter((n) => n.group === g)
                  .map((n) => (
                    <li key={n.to}>
                      <NavLink
                        to={n.to}
                        onClick={() => setOpen(false)}
                        className={({ isActive }) =>
                          `block rounded px-2 py-1.5 text-sm ${isActive ? 'bg-slate-700 text-white' : 'text-slate-300 hover:bg-slate-800'}`
                        }
                      >
                        {n.label}
                      </NavLink>
                    </li>
                  ))}
              </ul>
            </div>
          ))}
          <Form method="post" action="/logout" className="px-2">
            <CsrfInput />
            <button type="submit" className="text-sm text-slate-300 underline hover:text-white">
              Log out
            </button>
          </Form>
        </nav>
      </aside>
      <main id="main" className="flex-1 p-4 md:p-8" aria-busy={navigation.state === 'loading'}>
        {navigation.state === 'loading' ? (
          <div className="fixed inset-x-0 top-0 h-1 animate-pulse bg-indigo-500" role="progressbar" aria-label="Loading" />
        ) : null}
        <Outlet />
      </main>
    </div>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
