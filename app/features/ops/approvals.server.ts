import type { Sql } from '#app/db/db.server.ts'
import { ApiError, notFound } from '#app/http/errors.server.ts'
import { requestOpsRefresh } from './refresh.server.ts'
import { PRIORITIES, type DecideInput, type ListApprovalsQuery } from './schemas.ts'

/* The approval queue operators work through: drafted replies waiting for a human, and their decisions. */

const ITEM_COLUMNS = `q.id, q.external_id, q.agent_type, q.draft_reply, q.edited_reply, q.priority, q.confidence, q.status,
  q.reviewer_id, q.reviewer_name, q.review_notes, q.reviewed_at, q.created_at,
  round(extract(epoch from coalesce(q.reviewed_at, now()) - q.created_at) / 60.0, 1) as age_minutes,
  c.id as conversation_id, c.channel, c.subject, c.customer_message,
  nullif(trim(concat_ws(' ', cu.first_name, cu.last_name)), '') as customer_name`

/** Queue items, pending first by priority then oldest (other statuses newest decision first), with the conversation. */
export async function listApprovals(db: Sql, q: ListApprovalsQuery) {
  const where = [`($1 = 'all' or q.status = $1)`, `($2::text is null or q.priority = $2)`, `($3::text is null or q.agent_type = $3)`]
  const params = [q.status, q.priority ?? null, q.agent_type ?? null]
  const order =
    q.status === 'pending'
      ? `array_position(array['urgent','high','normal','low'], q.priority), q.created_at, q.id`
      : `coalesce(q.reviewed_at, q.created_at) desc, q.id desc`
  const [items, counts] = await Promise.all([
    db.query(
      `select ${ITEM_COLUMNS}, count(*) over () as total
       from public.approval_queue_items q
       left join public.conversations c on c.id = q.conversation_id
       left join public.customers cu on cu.id = c.customer_id
       where ${where.join(' and ')}
       order by ${order}
       limit $4 offset $5`,
      [...params, q.limit, q.offset],
    ),
    db.query<{ priority: string; n: number }>(
      `select priority, count(*)::int as n from public.approval_queue_items where status = 'pending' group by priority`,
    ),
  ])
  const pending = Object.fromEntries(PRIORITIES.map((p) => [p, counts.rows.find((r) => r.priority === p)?.n ?? 0]))
  const total = items.rows[0]?.total ?? (q.offset > 0 ? (await countMatching(db, where, params)) : 0)
  return {
    items: items.rows.map(({ total: _t, ...r }) => r),
    total,
    limit: q.limit,
    offset: q.offset,
    pending_counts: { ...pending, total: Object.values(pending).reduce((a, b) => a + b, 0) },
  }
}

async function countMatching(db: Sql, where: string[], params: unknown[]) {
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from public.approval_queue_items q where ${where.join(' and ')}`, params)
  return rows[0].n
}

export async function getApproval(db: Sql, id: number) {
  const { rows } = await db.query(
    `select ${ITEM_COLUMNS}
     from public.approval_queue_items q
     left join public.conversations c on c.id = q.conversation_id
     left join public.customers cu on cu.id = c.customer_id
     where q.id = $1`,
    [id],
  )
  if (!rows[0]) throw notFound('Approval item', id)
  return rows[0]
}

/**
 * Approve, reject or edit a pending draft. The database stamps the reviewer and the time from the caller and marks
 * the agent query behind the draft approved (approve, edit) and human-edited (edit): app.approval_item_rules and
 * app.mark_decided_agent_query (supabase/migrations/20250505000000_ops_write_rules.sql), the same for a direct PATCH.
 */
export async function decideApproval(db: Sql, id: number, input: DecideInput) {
  const status = input.action === 'approve' ? 'approved' : input.action === 'reject' ? 'rejected' : 'edited'
  const { rows } = await db.query<{ id: number }>(
    `update public.approval_queue_items set status = $2, edited_reply = $3, review_notes = $4
     where id = $1 and status = 'pending'
     returning id`,
    [id, status, input.action === 'edit' ? input.edited_reply : null, input.notes ?? null],
  )
  if (!rows[0]) {
    const current = await db.query<{ status: string }>(`select status from public.approval_queue_items where id = $1`, [id])
    if (!current.rows[0]) throw notFound('Approval item', id)
    throw new ApiError(409, 'CONFLICT', `This draft was already ${current.rows[0].status}`, { id, status: current.rows[0].status })
  }
  requestOpsRefresh()
  return getApproval(db, id)
}
