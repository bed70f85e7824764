import { useEffect, useRef, useState } from 'react'
import { Link, useFetcher, useFetchers, useSearchParams } from 'react-router'
import { Button, Card, EmptyState, Notice, PageHeader } from '#app/components/ui.tsx'
import { fmtTime, PriorityBadge, useAutoRefresh } from '#app/features/ops/components.tsx'
import { useRootData } from '#app/root.tsx'
import type { Route } from './+types/_app.approvals'

export const meta = () => [{ title: 'Approval queue · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { listApprovals } = await import('#app/features/ops/ops.server.ts')
  const { listApprovalsQuery } = await import('#app/features/ops/schemas.ts')
  const url = new URL(request.url)
  const q = listApprovalsQuery.safeParse({ status: 'pending', limit: 100, priority: url.searchParams.get('priority') || undefined })
  return uiLoader(request, 'approvals.read', async (db, caller) => ({
    queue: await listApprovals(db, q.success ? q.data : listApprovalsQuery.parse({ status: 'pending', limit: 100 })),
    canDecide: caller.permissions.has('approvals.decide'),
  }))
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction, formObject } = await import('#app/http/ui.server.ts')
  const { decideApproval } = await import('#app/features/ops/ops.server.ts')
  const { decideInput } = await import('#app/features/ops/schemas.ts')
  return uiAction(request, 'approvals.decide', async (db, _caller, form) => {
    const f = formObject(form)
    return decideApproval(db, Number(f.id), decideInput.parse({ action: f.action, edited_reply: f.edited_reply, notes: f.notes || undefined }))
  })
}

type Item = Route.ComponentProps['loaderData']['queue']['items'][number] & Record<string, any>

export default function Approvals({ loaderData }: Route.ComponentProps) {
  const { queue, canDecide } = loaderData
  useAutoRefresh(15_000)
  const root = useRootData()
  const [params] = useSearchParams()
  const fetchers = useFetchers()
  // Optimistic: drafts with a decision in flight (or just made) leave the list at once.
  const deciding = new Set(fetchers.filter((f) => f.formData?.get('id')).map((f) => Number(f.formData!.get('id'))))
  // The last decision's outcome: a failure (e.g. someone else decided it first) is shown and the draft comes back.
  const [lastKey, setLastKey] = useState('decide-none')
  const last = useFetcher({ key: lastKey })
  const failed = last.state === 'idle' && (last.data as { ok?: boolean } | undefined)?.ok === false ? (last.data as { error: { message: string } }) : undefined
  const items = (queue.items as Item[]).filter((i) => !deciding.has(i.id))
  const [selectedId, setSelectedId] = useState<number | null>(items[0]?.id ?? null)
  const selected = items.find((i) => i.id === selectedId) ?? items[0] ?? null
  const [editing, setEditing] = useState(false)
  const fetcher = useFetcher({ key: selected ? `decide-${selected.id}` : 'decide' })
  const textRef = useRef<HTMLTextAreaElement>(null)

  const decide = (action: 'approve' | 'reject' | 'edit', edited?: string) => {
    if (!selected || !canDecide) return
    const next = items[items.indexOf(selected) + 1] ?? items[items.indexOf(selected) - 1] ?? null
    const form: Record<string, string> = { id: String(selected.id), action, csrf: root?.csrf ?? '' }
    if (action === 'edit') form.edited_reply = edited ?? ''
    fetcher.submit(form, { method: 'post' })
    setLastKey(`decide-${selected.id}`)
    setEditing(false)
    setSelectedId(next?.id ?? null)
  }

  // Keyboard: j/k or arrows move, a approve, r reject, e edit, Esc leaves the editor.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) {
        if (e.key === 'Escape') setEditing(false)
        return
      }
      if (e.metaKey || e.ctrlKey || e.altKey || !selected) return
      const i = items.indexOf(selected)
      if (e.key === 'j' || e.key === 'ArrowDown') setSelectedId(items[Math.min(items.length - 1, i + 1)]?.id ?? null)
      else if (e.key === 'k' || e.key === 'ArrowUp') setSelectedId(items[Math.max(0, i - 1)]?.id ?? null)
      else if (e.key === 'a') decide('approve')
      else if (e.key === 'r') decide('reject')
      else if (e.key === 'e' && canDecide) {
        setEditing(true)
        setTimeout(() => textRef.current?.focus(), 0)
      } else return
      e.preventDefault()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  })

  const counts = { ...queue.pending_counts } as Record<string, number>
  for (const i of queue.items as Item[]) {
    if (!deciding.has(i.id)) continue
    counts[i.priority]--
    counts.total--
  }

  return (
    <>
      <PageHeader
        title="Approval queue"
        description="Drafted replies waiting for a human, most urgent first, then oldest."
        actions={
          <nav aria-label="Filter by priority" className="flex flex-wrap gap-2 text-sm" data-testid="queue-counts">
            <Link to="?" className={`rounded px-2 py-1 ${!params.get('priority') ? 'bg-indigo-100 font-semibold' : ''}`}>
              All <span data-testid="pending-total">{counts.total}</span>
            </Link>
            {(['urgent', 'high', 'normal', 'low'] as const).map((p) => (
              <Link key={p} to={`?priority=${p}`} className={`rounded px-2 py-1 ${params.get('priority') === p ? 'bg-indigo-100 font-semibold' : ''}`}>
                {p} {counts[p]}
              </Link>
            ))}
          </nav>
        }
      />
      {failed ? <Notice kind="error">{failed.error.message}</Notice> : null}
      {items.length === 0 ? (
        <EmptyState title="The queue is empty">No drafts are waiting for review. New ones appear here automatically.</EmptyState>
      ) : (
        <div className="grid gap-6 lg:grid-cols-5">
          <Card className="lg:col-span-2" title={`Pending (${items.length})`}>
            <ul className="flex flex-col divide-y divide-slate-100" role="listbox" aria-label="Pending drafts" data-testid="queue-list">
              {items.map((i) => (
                <li key={i.id} role="option" aria-selected={i.id === selected?.id}>
                  <button
                    type="button"
                    onClick={() => setSelectedId(i.id)}
                    className={`w-full px-2 py-2 text-left ${i.id === selected?.id ? 'bg-indigo-50' : 'hover:bg-slate-50'}`}
                  >
                    <div className="flex items-center justify-between gap-2">
                      <span className="truncate text-sm font-medium">{i.subject ?? i.agent_type}</span>
                      <PriorityBadge priority={i.priority} />
                    </div>
                    <p className="mt-0.5 text-xs text-slate-500">
                      {i.agent_type} · {i.confidence != null ? `${Number(i.confidence).toFixed(0)}% confident` : 'no confidence'} · waiting {Math.round(i.age_minutes)} min
                    </p>
                  </button>
                </li>
              ))}
            </ul>
          </Card>
          {selected ? (
            <Card className="lg:col-span-3" title="Review">
              <div className="flex flex-col gap-4" data-testid="queue-detail">
                <div className="flex flex-wrap items-center gap-2 text-sm text-slate-600">
                  <PriorityBadge priority={selected.priority} />
                  <span>{selected.channel}</span>·<span>{selected.customer_name ?? 'Unknown customer'}</span>·<span>{fmtTime(selected.created_at)}</span>
                </div>
                <div>
                  <p className="text-xs font-semibold uppercase text-slate-500">Customer wrote</p>
                  <blockquote className="mt-1 whitespace-pre-wrap rounded-md bg-slate-50 p-3 text-sm">{selected.customer_message ?? '—'}</blockquote>
                </div>
                <div>
                  <p className="text-xs font-semibold uppercase text-slate-500">
                    Drafted reply ({selected.agent_type}, model confidence{' '}
                    <span className={Number(selected.confidence) < 70 ? 'text-rose-700' : 'text-emerald-700'}>
                      {selected.confidence != null ? `${Number(selected.confidence).toFixed(0)}%` : '—'}
                    </span>
                    )
                  </p>
                  {editing ? (
                    <form
                      onSubmit={(e) => {
                        e.preventDefault()
                        decide('edit', textRef.current?.value)
                      }}
                    >
                      <label htmlFor="edited_reply" className="sr-only">Edited reply</label>
                      <textarea id="edited_reply" ref={textRef} defaultValue={selected.draft_reply} rows={6} className="mt-1 w-full rounded-md border border-slate-300 p-3 text-sm" />
                      <div className="mt-2 flex gap-2">
                        <Button type="submit">Send edited reply</Button>
                        <Button type="button" variant="secondary" onClick={() => setEditing(false)}>Cancel (Esc)</Button>
                      </div>
                    </form>
                  ) : (
                    <p className="mt-1 whitespace-pre-wrap rounded-md border border-indigo-100 bg-indigo-50/50 p-3 text-sm">{selected.draft_reply}</p>
                  )}
                </div>
                {canDecide && !editing ? (
                  <div className="flex flex-wrap gap-2">
                    <Button onClick={() => decide('approve')} aria-keyshortcuts="a">Approve <kbd className="ml-1 text-xs opacity-70">a</kbd></Button>
                    <Button variant="secondary" onClick={() => { setEditing(true); setTimeout(() => textRef.current?.focus(), 0) }} aria-keyshortcuts="e">
                      Edit <kbd className="ml-1 text-xs opacity-70">e</kbd>
                    </Button>
                    <Button variant="danger" onClick={() => decide('reject')} aria-keyshortcuts="r">Reject <kbd className="ml-1 text-xs opacity-70">r</kbd></Button>
                  </div>
                ) : null}
                {!canDecide ? <Notice>You can view the queue; deciding needs the approvals.decide permission.</Notice> : null}
                <p className="text-xs text-slate-500">Keys: j / k move · a approve · e edit · r reject · Esc cancel</p>
              </div>
            </Card>
          ) : null}
        </div>
      )}
    </>
  )
}
