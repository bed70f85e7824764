import { z } from 'zod'
import type { Sql } from '#app/db/db.server.ts'
import { requestOpsRefresh } from './refresh.server.ts'
import { INGEST_RECORDS, type IngestKind } from './schemas.ts'

/*
  Bulk ingestion so a real shop can feed the dashboard: JSON batches of customers, orders, storefront sessions,
  conversations, agent query logs, drafted replies and annotations. Each record is keyed by the shop's own
  `external_id`: sending the same record again updates it (idempotent). Records that fail validation or point at an
  unknown record are reported by index and field; the good ones in the batch are kept.
*/

/** References to resolve: field in the record → the table whose external_id it names → the column it fills. */
const REFS: Record<IngestKind, Array<{ field: string; table: string; column: string }>> = {
  customers: [],
  orders: [{ field: 'customer_external_id', table: 'customers', column: 'customer_id' }],
  sessions: [{ field: 'customer_external_id', table: 'customers', column: 'customer_id' }],
  conversations: [{ field: 'customer_external_id', table: 'customers', column: 'customer_id' }],
  'agent-queries': [{ field: 'conversation_external_id', table: 'conversations', column: 'conversation_id' }],
  drafts: [
    { field: 'conversation_external_id', table: 'conversations', column: 'conversation_id' },
    { field: 'agent_query_external_id', table: 'agent_queries', column: 'agent_query_id' },
  ],
  annotations: [
    { field: 'conversation_external_id', table: 'conversations', column: 'conversation_id' },
    { field: 'draft_external_id', table: 'approval_queue_items', column: 'queue_item_id' },
  ],
}

/*
  Upserts from a JSON array of resolved records ($1), for the caller's tenant (RLS checks ingest.write). When an order
  was placed and when a session started is history: a record that names another time than the one recorded is not
  applied and is reported (the database grants no UPDATE of those columns either).
*/
const RECORDED_TIME: Partial<Record<IngestKind, { field: string; what: string }>> = {
  orders: { field: 'created_at', what: 'an order was placed' },
  sessions: { field: 'started_at', what: 'a session started' },
}

const UPSERT: Record<IngestKind, string> = {
  customers: `
    insert into public.customers (external_id, email, first_name, last_name, phone, created_at)
    select r.external_id, r.email, r.first_name, r.last_name, r.phone, coalesce(r.created_at, now())
    from jsonb_to_recordset($1::jsonb) as r(external_id text, email text, first_name text, last_name text, phone text, created_at timestamptz)
    on conflict (tenant_id, external_id) do update set email = excluded.email, first_name = excluded.first_name,
      last_name = excluded.last_name, phone = excluded.phone
    returning (xmax = 0) as inserted`,
  orders: `
    insert into public.orders (external_id, customer_id, status, fulfillment_status, total_price, currency, created_at, fulfilled_at)
    select r.external_id, r.customer_id, r.status, r.fulfillment_status, r.total_price, r.currency, r.created_at,
      case when r.fulfillment_status = 'fulfilled' then coalesce(r.fulfilled_at, r.created_at) else r.fulfilled_at end
    from jsonb_to_recordset($1::jsonb) as r(external_id text, customer_id bigint, status text, fulfillment_status text,
      total_price numeric, currency text, created_at timestamptz, fulfilled_at timestamptz)
    on conflict (tenant_id, external_id) do update set customer_id = excluded.customer_id, status = excluded.status,
      fulfillment_status = excluded.fulfillment_status, total_price = excluded.total_price, currency = excluded.currency,
      fulfilled_at = excluded.fulfilled_at
      where orders.created_at = excluded.created_at
    returning (xmax = 0) as inserted, external_id`,
  sessions: `
    insert into public.storefront_sessions (external_id, customer_id, started_at, landing_page, converted)
    select r.external_id, r.customer_id, r.started_at, r.landing_page, r.converted
    from jsonb_to_recordset($1::jsonb) as r(external_id text, customer_id bigint, started_at timestamptz, landing_page text, converted boolean)
    on conflict (tenant_id, external_id) do update set customer_id = excluded.customer_id,
      landing_page = excluded.landing_page, converted = excluded.converted
      where storefront_sessions.started_at = excluded.started_at
    returning (xmax = 0) as inserted, external_id`,
  conversations: `
    insert into public.conversations (external_id, customer_id, channel, subject, customer_message, created_at)
    select r.external_id, r.customer_id, r.channel, r.subject, r.customer_message, coalesce(r.created_at, now())
    from jsonb_to_recordset($1::jsonb) as r(external_id text, customer_id bigint, channel text, subject text, customer_message text, created_at timestamptz)
    on conflict (tenant_id, external_id) do update set customer_id = excluded.customer_id, channel = excluded.channel,
      subject = excluded.subject, customer_message = excluded.customer_message
    returning (xmax = 0) as inserted`,
  'agent-queries': `
    insert into public.agent_queries (external_id, conversation_id, agent_type, query_text, response_text, latency_ms, approved,
      human_edited, accuracy_score, helpfulness_score, tone_score, safe_to_send, created_at)
    select r.external_id, r.conversation_id, r.agent_type, r.query_text, r.response_text, r.latency_ms, r.approved, r.human_edited,
      r.accuracy_score, r.helpfulness_score, r.tone_score, r.safe_to_send, coalesce(r.created_at, now())
    from jsonb_to_recordset($1::jsonb) as r(external_id text, conversation_id bigint, agent_type text, query_text text, response_text text,
      latency_ms int, approved boolean, human_edited boolean, accuracy_score numeric, helpfulness_score numeric, tone_score numeric,
      safe_to_send boolean, created_at timestamptz)
    on conflict (tenant_id, external_id) do update set conversation_id = excluded.conversation_id, agent_type = excluded.agent_type,
      query_text = excluded.query_text, response_text = excluded.response_text, latency_ms = excluded.latency_ms,
      approved = excluded.approved, human_edited = excluded.human_edited, accuracy_score = excluded.accuracy_score,
      helpfulness_score = excluded.helpfulness_score, tone_score = excluded.tone_score, safe_to_send = excluded.safe_to_send
    returning (xmax = 0) as inserted`,
  // A draft a reviewer has already decided keeps its decision: only pending drafts are updated.
  drafts: `
    insert into public.approval_queue_items (external_id, conversation_id, agent_query_id, agent_type, draft_reply, priority, confidence, created_at)
    select r.external_id, r.conversation_id, r.agent_query_id, r.agent_type, r.draft_reply, r.priority, r.confidence, coalesce(r.created_at, now())
    from jsonb_to_recordset($1::jsonb) as r(external_id text, conversation_id bigint, agent_query_id bigint, agent_type text,
      draft_reply text, priority text, confidence numeric, created_at timestamptz)
    on conflict (tenant_id, external_id) do update set conversation_id = excluded.conversation_id,
      agent_query_id = excluded.agent_query_id, agent_type = excluded.agent_type, draft_reply = excluded.draft_reply,
      priority = excluded.priority, confidence = excluded.confidence
      where approval_queue_items.status = 'pending'
    returning (xmax = 0) as inserted`,
  annotations: `
    insert into public.training_examples (external_id, conversation_id, queue_item_id, input_text, model_draft, safe_to_send, category,
      sentiment, tone, accuracy_score, helpfulness_score, tone_score, annotator, notes, model_confidence, response_time_ms, created_at)
    select r.external_id, r.conversation_id, r.queue_item_id, r.input_text, r.model_draft, r.safe_to_send, r.category, r.sentiment,
      r.tone, r.accuracy_score, r.helpfulness_score, r.tone_score, r.annotator, r.notes, r.model_confidence, r.response_time_ms,
      coalesce(r.created_at, now())
    from jsonb_to_recordset($1::jsonb) as r(external_id text, conversation_id bigint, queue_item_id bigint, input_text text,
      model_draft text, safe_to_send boolean, category text, sentiment text, tone text, accuracy_score numeric,
      helpfulness_score numeric, tone_score numeric, annotator text, notes text, model_confidence numeric,
      response_time_ms int, created_at timestamptz)
    on conflict (tenant_id, external_id) do update set conversation_id = excluded.conversation_id,
      queue_item_id = excluded.queue_item_id, input_text = excluded.input_text, model_draft = excluded.model_draft,
      safe_to_send = excluded.safe_to_send, category = excluded.category, sentiment = excluded.sentiment, tone = excluded.tone,
      accuracy_score = excluded.accuracy_score, helpfulness_score = excluded.helpfulness_score, tone_score = excluded.tone_score,
      annotator = excluded.annotator, notes = excluded.notes, model_confidence = excluded.model_confidence,
      response_time_ms = excluded.response_time_ms
    returning (xmax = 0) as inserted`,
}

export interface IngestError {
  index: number
  external_id?: string
  field: string
  message: string
}

export interface IngestResult {
  kind: IngestKind
  received: number
  inserted: number
  updated: number
  unchanged: number
  failed: number
  errors: IngestError[]
}

export async function ingest(db: Sql, kind: IngestKind, records: unknown[]): Promise<IngestResult> {
  const schema = INGEST_RECORDS[kind] as z.ZodType<Record<string, any>>
  const errors: IngestError[] = []
  const good: Array<{ index: number; row: Record<string, any> }> = []
  const seen = new Map<string, number>()
  records.forEach((raw, index) => {
    const r = schema.safeParse(raw)
    if (!r.success) {
      const external_id = typeof (raw as any)?.external_id === 'string' ? (raw as any).external_id : undefined
      for (const i of r.error.issues) errors.push({ index, external_id, field: i.path.join('.') || 'record', message: i.message })
      return
    }
    const first = seen.get(r.data.external_id)
    if (first !== undefined) {
      errors.push({ index, external_id: r.data.external_id, field: 'external_id', message: `duplicates record ${first} of this batch` })
      return
    }
    seen.set(r.data.external_id, index)
    good.push({ index, row: r.data })
  })

  // Resolve references to the tenant's own records (RLS limits the lookup to the caller's tenant).
  for (const { field, table, column } of REFS[kind]) {
    const wanted = [...new Set(good.map((g) => g.row[field]).filter((v): v is string => typeof v === 'string'))]
    const ids = new Map<string, number>()
    if (wanted.length) {
      const { rows } = await db.query<{ external_id: string; id: number }>(
        `select external_id, id from public.${table} where external_id = any($1::text[])`,
        [wanted],
      )
      for (const r of rows) ids.set(r.external_id, r.id)
    }
    for (let i = good.length - 1; i >= 0; i--) {
      const v = good[i].row[field]
      if (v == null) continue
      const id = ids.get(v)
      if (id === undefined) {
        errors.push({ index: good[i].index, external_id: good[i].row.external_id, field, message: `no ${table.replace(/_/g, ' ')} record with external_id '${v}'` })
        good.splice(i, 1)
      } else good[i].row[column] = id
    }
  }

  let inserted = 0
  let updated = 0
  let rejected = 0
  if (good.length) {
    const { rows } = await db.query<{ inserted: boolean; external_id?: string }>(UPSERT[kind], [JSON.stringify(good.map((g) => g.row))])
    inserted = rows.filter((r) => r.inserted).length
    updated = rows.length - inserted
    const time = RECORDED_TIME[kind]
    if (time) {
      const applied = new Set(rows.map((r) => r.external_id))
      for (const g of good) {
        if (applied.has(g.row.external_id)) continue
        errors.push({ index: g.index, external_id: g.row.external_id, field: time.field, message: `differs from the one recorded: when ${time.what} cannot change` })
        rejected++
      }
    }
    requestOpsRefresh()
  }
  errors.sort((a, b) => a.index - b.index)
  return {
    kind,
    received: records.length,
    inserted,
    updated,
    unchanged: good.length - inserted - updated - rejected,
    failed: new Set(errors.map((e) => e.index)).size,
    errors,
  }
}
