import { Card, PageHeader } from '#app/components/ui.tsx'
import type { Route } from './+types/_app.api-reference'

export const meta = () => [{ title: 'API reference · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { requireCaller } = await import('#app/features/auth/auth.server.ts')
  const { buildOpenApi } = await import('#app/http/openapi.server.ts')
  await requireCaller(request)
  return buildOpenApi()
}

const methodColors: Record<string, string> = {
  get: 'bg-sky-100 text-sky-800',
  post: 'bg-emerald-100 text-emerald-800',
  put: 'bg-amber-100 text-amber-800',
  patch: 'bg-amber-100 text-amber-800',
  delete: 'bg-rose-100 text-rose-800',
}

export default function ApiReference({ loaderData }: Route.ComponentProps) {
  const doc = loaderData
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Record<string, any>).map(([method, op]) => ({ path, method, op })),
  )
  const tags = [...new Set(ops.map((o) => (o.op.tags?.[0] as string) ?? 'Other'))].sort()
  return (
    <>
      <PageHeader
        title="API reference"
        description={`OpenAPI ${doc.openapi}, generated from the routes' own schemas. ${ops.length} operations.`}
        actions={
          <a className="text-sm text-indigo-700 underline" href="/api/v1/openapi.json">
            Download openapi.json
          </a>
        }
      />
      <div className="flex flex-col gap-6">
        {tags.map((tag) => (
          <Card key={tag} title={tag}>
            <ul className="divide-y divide-slate-100">
              {ops
                .filter((o) => ((o.op.tags?.[0] as string) ?? 'Other') === tag)
                .map(({ path, method, op }) => (
                  <li key={method + path} className="py-3">
                    <details>
                      <summary className="flex cursor-pointer flex-wrap items-center gap-3">
                        <span className={`rounded px-2 py-0.5 font-mono text-xs font-bold uppercase ${methodColors[method]}`}>{method}</span>
                        <code className="text-sm">{path}</code>
                        <span className="text-sm text-slate-600">{op.summary}</span>
                      </summary>
                      <div className="mt-3 space-y-2 pl-4 text-sm">
                        {op['x-permission'] ? <p>Permission: <code>{op['x-permission']}</code></p> : null}
                        {op.parameters?.length ? (
                          <ul className="list-disc pl-5">
                            {op.parameters.map((p: any) => (
                              <li key={p.in + p.name}>
                                <code>{p.name}</code> ({p.in}
                                {p.required ? ', required' : ''}) {p.schema?.type ?? ''}
                              </li>
                            ))}
                          </ul>
                        ) : null}
                        {op.requestBody ? (
                          <pre className="overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">
                            {JSON.stringify(Object.values(op.requestBody.content)[0], null, 2)}
                          </pre>
                        ) : null}
                      </div>
                    </details>
                  </li>
                ))}
            </ul>
          </Card>
        ))}
      </div>
    </>
  )
}
