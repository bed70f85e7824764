import { data, Link, useSearchParams } from 'react-router'
import { ActionForm, Card, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CsvButton, fmtNum } from '#app/features/analytics/components.tsx'
import { isActive, TrainingProgress, usePollWhile } from '#app/features/ml/components.tsx'
import type { Route } from './+types/_app.models'

export const meta = () => [{ title: 'Models · Hot Dash' }]

const PAGE = 20

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  const page = Math.max(0, Number(new URL(request.url).searchParams.get('page')) || 0)
  return uiLoader(request, 'models.read', async (db, caller) => {
    const list = await ml.listTrainings(db, { skip: page * PAGE, limit: PAGE })
    return { ...list, page, canWrite: caller.permissions.has('models.write') }
  })
}

export async function action({ request }: Route.ActionArgs) {
  const { asCaller } = await import('#app/db/db.server.ts')
  const { getDb } = await import('#app/db/index.server.ts')
  const { requireCaller } = await import('#app/features/auth/auth.server.ts')
  const { verifyCsrf } = await import('#app/features/auth/auth.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const { readFormData } = await import('#app/http/body.server.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  const { caller, headers } = await requireCaller(request, 'models.write')
  try {
    await verifyCsrf(request, caller)
    const form = await readFormData(request)
    const id = Number(form.get('train_id'))
    const db = await getDb()
    // Delete runs its own transaction (rows first, files after commit); cancel is the Ray terminate endpoint's function.
    const result = form.get('intent') === 'cancel' ? await asCaller(db, caller.claims, (tx) => ml.terminateTraining(tx, String(id))) : await ml.deleteTraining(db, caller, id)
    return data({ ok: true as const, message: result?.message ?? `Training ${id} not found` }, { headers })
  } catch (e) {
    const err = toApiError(e)
    return data({ ok: false as const, message: err.message }, { status: err.status, headers })
  }
}

export default function Models({ loaderData, actionData }: Route.ComponentProps) {
  const { data: trainings, total, page, canWrite } = loaderData
  const [params] = useSearchParams()
  usePollWhile(trainings.some((t) => isActive(t.status)))
  const pages = Math.max(1, Math.ceil(total / PAGE))
  const pageLink = (p: number) => {
    const q = new URLSearchParams(params)
    q.set('page', String(p))
    return `?${q}`
  }
  const csv = trainings.map((t) => ({
    id: t.id,
    predictor_name: t.predictor_name,
    dataset: t.dataset_name,
    problem_type: t.problem_type,
    algorithm: t.algorithm,
    metric: t.metric?.name ?? null,
    value: t.metric?.value ?? null,
    accuracy: t.accuracy,
    status: t.status,
    progress: t.progress,
    created_by: t.created_by,
    created_at: t.created_at,
    finished_at: t.finished_at,
  }))
  return (
    <>
      <PageHeader
        title="Models"
        description="Every training of your tenant: XGBoost and a linear baseline on a validated dataset, with held-out metrics and SHAP importance."
        actions={
          canWrite ? (
            <Link to="/models/new" className="inline-flex items-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
              New model
            </Link>
          ) : null
        }
      />
      {actionData ? <div className="mb-4"><Notice kind={actionData.ok ? 'success' : 'error'}>{actionData.message}</Notice></div> : null}
      <Card>
        {trainings.length ? (
          <>
            <div className="mb-3 flex items-center gap-3 text-sm">
              <span className="text-slate-600">
                {total} training{total === 1 ? '' : 's'} · page {page + 1} of {pages}
              </span>
              {page > 0 ? <Link className="underline" to={pageLink(page - 1)}>Previous</Link> : null}
              {page + 1 < pages ? <Link className="underline" to={pageLink(page + 1)}>Next</Link> : null}
              <span className="ml-auto">
                <CsvButton name={`models-page-${page + 1}`} rows={csv} />
              </span>
            </div>
            <Table headers={['Model', 'Dataset', 'Problem', 'Algorithm', 'Validation metric', 'Status', 'Created', '']}>
              {trainings.map((t) => (
                <tr key={t.id} data-testid="training-row">
                  <td className="px-3 py-2 font-medium">
                    <Link className="text-indigo-700 underline" to={`/models/${t.id}`}>{t.predictor_name}</Link>
                    <div className="text-xs font-normal text-slate-500">#{t.id} · {t.domain}</div>
                  </td>
                  <td className="px-3 py-2">{t.dataset_id ? <Link className="underline" to={`/datasets/${t.dataset_id}`}>{t.dataset_name}</Link> : t.dataset_name}</td>
                  <td className="px-3 py-2">{t.problem_type}</td>
                  <td className="px-3 py-2">{t.algorithm}{t.requested_algorithm === 'auto' && t.model ? <span className="text-xs text-slate-500"> (auto)</span> : null}</td>
                  <td className="px-3 py-2 tabular-nums">{t.metric ? `${t.metric.name} ${fmtNum(t.metric.value, 4)}` : '—'}</td>
                  <td className="px-3 py-2">
                    <TrainingProgress status={t.status} progress={t.progress} step={t.current_step} />
                    {t.status === 'failed' && t.error ? <p className="mt-1 max-w-64 truncate text-xs text-rose-700" title={t.error}>{t.error}</p> : null}
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 text-slate-600">{new Date(t.created_at).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' })}</td>
                  <td className="px-3 py-2">
                    {canWrite ? (
                      <div className="flex flex-col items-start gap-1">
                        {isActive(t.status) ? <ActionForm intent="cancel" fields={{ train_id: String(t.id) }} label="Cancel" confirm={`Stop training ${t.predictor_name}?`} /> : null}
                        <ActionForm intent="delete" fields={{ train_id: String(t.id) }} label="Delete" confirm={`Delete ${t.predictor_name} and its model files?`} variant="danger" />
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </Table>
          </>
        ) : (
          <EmptyState title={page ? 'No trainings on this page' : 'No models yet'}>
            {canWrite ? (
              <>
                Train one from a validated dataset: <Link className="text-indigo-700 underline" to="/models/new">New model</Link>.
              </>
            ) : (
              'A data scientist trains models from validated datasets.'
            )}
          </EmptyState>
        )}
      </Card>
    </>
  )
}
