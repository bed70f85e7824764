import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '#app/db/db.server.ts'
import { setupTestApp, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'

/*
  The operations tables as strict as the API where PostgREST reaches them (issue 16.6): every statement here runs as
  PostgREST would run a PATCH / DELETE / POST from a signed-in user (role `authenticated`, the user's JWT in
  request.jwt.claims), mostly an operator's (ingest.write and approvals.decide).
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
const TABLES = ['customers', 'orders', 'storefront_sessions', 'conversations', 'agent_queries', 'approval_queue_items', 'training_examples']

const claimsOf = (t: TestTenant, u: TestUser, role: string, extra: Record<string, unknown> = {}) =>
  ({ sub: u.userId, role: 'authenticated', email: u.email, app_metadata: { tenant_id: t.id, roles: [role], ...extra } })

/** One PostgREST request: role and claims for the transaction, then the statement. */
function asPostgrest<T>(claims: Record<string, unknown> | 'service_role', fn: (tx: Sql) => Promise<T>) {
  return app.db.transaction(async (tx) => {
    const role = claims === 'service_role' ? 'service_role' : 'authenticated'
    await tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [
      role,
      JSON.stringify(claims === 'service_role' ? { role: 'service_role', sub: '00000000-0000-0000-0000-000000000000' } : claims),
    ])
    return fn(tx)
  })
}
const operator = (t = a) => claimsOf(t, t.operator, 'operator')

let seq = 0
/** A conversation, agent query and pending draft of tenant t, written as the owner (the seeder). */
async function pendingDraft(t: TestTenant) {
  const n = ++seq
  const { rows } = await app.db.query<{ item: number; query: number; conv: number }>(
    `with c as (insert into public.conversations (tenant_id, external_id, customer_message) values ($1, 'wr-c' || $2, 'Where is my order?') returning id),
          q as (insert into public.agent_queries (tenant_id, external_id, conversation_id, agent_type, latency_ms) select $1, 'wr-q' || $2, c.id, 'order_status', 100 from c returning id, conversation_id)
     insert into public.approval_queue_items (tenant_id, external_id, conversation_id, agent_query_id, agent_type, draft_reply)
     select $1, 'wr-d' || $2, q.conversation_id, q.id, 'order_status', 'It ships today.' from q
     returning id as item, agent_query_id as query, conversation_id as conv`,
    [t.id, n],
  )
  return rows[0]
}

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  await app.db.query(
    `insert into public.orders (tenant_id, external_id, total_price, created_at) values ($1, 'wr-o1', 50, now() - interval '2 hours'), ($2, 'wr-o1', 70, now() - interval '2 hours')`,
    [a.id, b.id],
  )
}, 120_000)
afterAll(() => app?.close())

describe('history is not rewritten', () => {
  it.each(TABLES)('DELETE from %s is refused to an operator (no policy, no grant)', async (table) => {
    await expect(asPostgrest(operator(), (tx) => tx.query(`delete from public.${table}`))).rejects.toMatchObject({ code: '42501' })
  })

  it.each(TABLES)('TRUNCATE %s (which would ignore RLS) is refused', async (table) => {
    await expect(asPostgrest(operator(), (tx) => tx.query(`truncate public.${table}`))).rejects.toMatchObject({ code: '42501' })
  })

  it("an order's life may change, when it was placed may not", async () => {
    const r = await asPostgrest(operator(), (tx) => tx.query(`update public.orders set status = 'refunded', fulfillment_status = 'fulfilled', fulfilled_at = now() where external_id = 'wr-o1'`))
    expect(r.rowCount).toBe(1) // tenant a's only
    for (const set of [`created_at = now() - interval '1 year'`, `external_id = 'other'`, `tenant_id = '${b.id}'`, `updated_at = now()`]) {
      await expect(asPostgrest(operator(), (tx) => tx.query(`update public.orders set ${set} where external_id = 'wr-o1'`)), set).rejects.toMatchObject({ code: '42501' })
    }
    const status = async (t: TestTenant) => (await app.db.query(`select status from public.orders where tenant_id = $1 and external_id = 'wr-o1'`, [t.id])).rows[0].status
    expect([await status(a), await status(b)]).toEqual(['refunded', 'paid'])
  })

  it("another tenant's rows are out of reach", async () => {
    const r = await asPostgrest(operator(b), (tx) => tx.query(`update public.orders set total_price = 0 where tenant_id = $1`, [a.id]))
    expect(r.rowCount).toBe(0)
  })

  it('a viewer updates nothing', async () => {
    const { item } = await pendingDraft(a)
    const r = await asPostgrest(claimsOf(a, a.viewer, 'viewer'), (tx) => tx.query(`update public.approval_queue_items set status = 'approved' where id = $1`, [item]))
    expect(r.rowCount).toBe(0)
    const o = await asPostgrest(claimsOf(a, a.viewer, 'viewer'), (tx) => tx.query(`update public.orders set status = 'paid'`))
    expect(o.rowCount).toBe(0)
  })
})

describe('reviews', () => {
  it('a forged review is refused: reviewer and time are not the caller’s to write', async () => {
    const { item } = await pendingDraft(a)
    for (const set of [`reviewer_id = '${a.admin.userId}'`, `reviewer_name = 'the admin'`, `reviewed_at = now() - interval '1 day'`]) {
      await expect(asPostgrest(operator(), (tx) => tx.query(`update public.approval_queue_items set status = 'approved', ${set} where id = $1`, [item])), set).rejects.toMatchObject({ code: '42501' })
    }
    await expect(
      asPostgrest(operator(), (tx) => tx.query(
        `insert into public.approval_queue_items (external_id, agent_type, draft_reply, status, reviewer_name, reviewed_at) values ('wr-forged', 'order_status', 'x', 'approved', 'the admin', now())`)),
    ).rejects.toMatchObject({ code: '42501' })
  })

  it('a decision made directly is stamped with the caller, the time, and marks the agent query', async () => {
    const { item, query } = await pendingDraft(a)
    const before = Date.now()
    const r = await asPostgrest(operator(), (tx) => tx.query(`update public.approval_queue_items set status = 'edited', edited_reply = 'It ships tomorrow.' where id = $1 returning reviewer_id, reviewer_name, reviewed_at`, [item]))
    expect(r.rows[0]).toMatchObject({ reviewer_id: a.operator.userId, reviewer_name: a.operator.username })
    expect(new Date(r.rows[0].reviewed_at).getTime()).toBeGreaterThanOrEqual(before - 5000)
    const { rows } = await app.db.query(`select approved, human_edited from public.agent_queries where id = $1`, [query])
    expect(rows[0]).toEqual({ approved: true, human_edited: true })
  })

  it('an API key decides with no reviewer id, under its creator’s name', async () => {
    const { item } = await pendingDraft(a)
    const key = { ...claimsOf(a, a.operator, 'operator'), app_metadata: { tenant_id: a.id, scopes: ['approvals.read', 'approvals.decide'], api_key_id: 'k1', roles: [] } }
    const r = await asPostgrest(key, (tx) => tx.query(`update public.approval_queue_items set status = 'rejected' where id = $1 returning reviewer_id, reviewer_name`, [item]))
    expect(r.rows[0]).toEqual({ reviewer_id: null, reviewer_name: a.operator.username })
  })

  it('a decided row is locked: invisible to updates as a user, refused even to service_role', async () => {
    const { item } = await pendingDraft(a)
    await asPostgrest(operator(), (tx) => tx.query(`update public.approval_queue_items set status = 'approved' where id = $1`, [item]))
    for (const set of [`status = 'pending'`, `status = 'rejected'`, `draft_reply = 'rewritten'`, `review_notes = 'later'`]) {
      const r = await asPostgrest(operator(), (tx) => tx.query(`update public.approval_queue_items set ${set} where id = $1`, [item]))
      expect(r.rowCount, set).toBe(0)
      await expect(asPostgrest('service_role', (tx) => tx.query(`update public.approval_queue_items set ${set} where id = $1`, [item])), set).rejects.toThrow(/already approved/)
    }
    const { rows } = await app.db.query(`select status, draft_reply, review_notes from public.approval_queue_items where id = $1`, [item])
    expect(rows[0]).toEqual({ status: 'approved', draft_reply: 'It ships today.', review_notes: null })
  })

  it('deleting what a decided row links to still works (the link becomes null)', async () => {
    const { item, conv } = await pendingDraft(a)
    await asPostgrest(operator(), (tx) => tx.query(`update public.approval_queue_items set status = 'approved' where id = $1`, [item]))
    await app.db.query(`delete from public.conversations where id = $1`, [conv])
    const { rows } = await app.db.query(`select status, conversation_id from public.approval_queue_items where id = $1`, [item])
    expect(rows[0]).toEqual({ status: 'approved', conversation_id: null })
  })

  it('deciding needs approvals.decide, changing the draft needs ingest.write', async () => {
    const { item } = await pendingDraft(a)
    const reviewerOnly = claimsOf(a, a.operator, 'operator', { scopes: ['approvals.read', 'approvals.decide'] })
    const ingestOnly = claimsOf(a, a.operator, 'operator', { scopes: ['ingest.write'] })
    await expect(asPostgrest(reviewerOnly, (tx) => tx.query(`update public.approval_queue_items set draft_reply = 'x' where id = $1`, [item]))).rejects.toThrow(/ingest.write/)
    await expect(asPostgrest(ingestOnly, (tx) => tx.query(`update public.approval_queue_items set status = 'approved' where id = $1`, [item]))).rejects.toThrow(/approvals.decide/)
    await expect(asPostgrest(operator(), (tx) => tx.query(`update public.approval_queue_items set review_notes = 'hmm' where id = $1`, [item]))).rejects.toThrow(/come with a decision/)
    const ok = await asPostgrest(ingestOnly, (tx) => tx.query(`update public.approval_queue_items set priority = 'urgent' where id = $1 returning status, reviewed_at`, [item]))
    expect(ok.rows[0]).toEqual({ status: 'pending', reviewed_at: null })
  })
})

describe('the policies, readable', () => {
  it('one per command for each table, named in English, none for DELETE', async () => {
    const { rows } = await app.db.query<{ tablename: string; cmd: string; policyname: string }>(
      `select tablename, cmd, policyname from pg_policies where schemaname = 'public' and tablename = any($1) order by 1, 2`,
      [TABLES],
    )
    for (const t of TABLES) {
      expect(rows.filter((r) => r.tablename === t).map((r) => r.cmd).sort(), t).toEqual(['INSERT', 'SELECT', 'UPDATE'])
    }
    for (const r of rows) expect(r.policyname).toMatch(/^(Members|Reviewers) [a-z .,']+(read|add|update)[a-z .,']+$/i)
  })
})
