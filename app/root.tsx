import { data, Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteLoaderData } from 'react-router'
import type { Route } from './+types/root'
import { GeneralErrorBoundary } from './components/error-boundary.tsx'
import './app.css'

// Served from public/ (Vite in dev, build/client in production).
export const links: Route.LinksFunction = () => [
  { rel: 'icon', href: '/favicon.ico', sizes: '48x48' },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
  { rel: 'apple-touch-icon', href: '/apple-touch-icon.png' },
]

export async function loader({ request }: Route.LoaderArgs) {
  const { getSessionCaller } = await import('./features/auth/auth.server.ts')
  const { csrfToken } = await import('./features/auth/auth.server.ts')
  const { caller, headers } = await getSessionCaller(request)
  const user = caller
    ? {
        id: caller.userId,
        email: caller.email ?? '',
        username: String((caller.claims.user_metadata as { username?: string } | undefined)?.username ?? caller.email ?? ''),
        tenantId: caller.tenantId,
        roles: caller.roles,
        permissions: [...caller.permissions].sort(),
      }
    : null
  return data({ user, csrf: caller ? csrfToken(caller) : null }, { headers })
}

export type RootData = Awaited<ReturnType<typeof loader>>['data']

export function useRootData() {
  return useRouteLoaderData('root') as RootData | undefined
}

export function Layout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en" className="h-full bg-slate-50">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Hot Dash</title>
        <Meta />
        <Links />
      </head>
      <body className="h-full text-slate-900 antialiased">
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  )
}

export default function App() {
  return <Outlet />
}

export function ErrorBoundary() {
  return (
    <main className="mx-auto max-w-2xl p-8">
      <GeneralErrorBoundary />
    </main>
  )
}
