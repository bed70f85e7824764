import { Link } from 'react-router'
import { navFor } from '#app/components/nav.ts'
import { Card, PageHeader } from '#app/components/ui.tsx'
import { useRootData } from '#app/root.tsx'

export const meta = () => [{ title: 'Hot Dash' }]

export default function Home() {
  const root = useRootData()
  const nav = navFor(root?.user?.permissions ?? [])
  return (
    <>
      <PageHeader title={`Welcome, ${root?.user?.username ?? ''}`} description={`Roles: ${root?.user?.roles.join(', ') || 'none'}`} />
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {nav.map((n) => (
          <Link key={n.to} to={n.to} className="block">
            <Card className="h-full hover:border-indigo-300">
              <p className="text-xs font-semibold uppercase text-slate-500">{n.group}</p>
              <p className="mt-1 text-lg font-semibold">{n.label}</p>
            </Card>
          </Link>
        ))}
      </div>
    </>
  )
}
