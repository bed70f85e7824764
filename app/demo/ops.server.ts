import type { Db, Sql } from '#app/db/db.server.ts'
import { requestOpsRefresh } from '#app/features/ops/ops.server.ts'
import { seededRandom } from './random.ts'

/*
  Operations demo data: 90 days of a shop's orders with daily and weekly seasonality and slow growth, storefront
  sessions, customers who come back, and the AI agent's conversations, queries, drafted replies (most decided, a few
  pending) and annotated training examples. A few incidents are injected in the last 30 hours so the anomaly detector
  has something real to find. Everything comes from the seeded rng: same data on every machine for the same `now`.
*/

const HOUR = 3_600_000
const FIRST_NAMES = ['Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Elijah', 'Sophia', 'James', 'Isabella', 'Lucas', 'Mia', 'Mateo', 'Amelia', 'Ethan', 'Harper', 'Priya', 'Chen', 'Fatima', 'Diego', 'Yuki', 'Kwame', 'Ingrid', 'Omar', 'Sofia', 'Hannah']
const LAST_NAMES = ['Smith', 'Johnson', 'Garcia', 'Martinez', 'Nguyen', 'Patel', 'Kim', 'Okafor', 'Rossi', 'Müller', 'Dubois', 'Andersen', 'Kowalski', "O'Brien", 'Tanaka', 'Silva', 'Cohen', 'Haddad', 'Ivanova', 'Walker']
const STREETS = ['Maple Street', 'Oak Avenue', 'Elm Road', 'Cedar Lane', 'Birch Boulevard', 'Pine Court', 'Willow Drive']
const PRODUCTS = ['trail runner shoes', 'rain jacket', 'merino hoodie', 'camping stove', 'daypack 24L', 'down vest', 'wool socks (3-pack)']
const AGENTS = ['shipping_assistant', 'order_status', 'returns_assistant', 'product_search', 'billing_assistant'] as const
const CATEGORY: Record<(typeof AGENTS)[number], string> = {
  shipping_assistant: 'shipping_inquiry',
  order_status: 'order_status',
  returns_assistant: 'return_request',
  product_search: 'product_question',
  billing_assistant: 'billing_issue',
}
const TONES = ['professional', 'friendly', 'empathetic', 'apologetic']
const ANNOTATORS = ['annotator_a', 'annotator_b', 'annotator_c']

/** Relative order rate by local hour of day (the shop is at UTC-5): quiet nights, lunch and evening peaks. */
const DAY_SHAPE = [0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.35, 0.6, 0.9, 1.1, 1.25, 1.4, 1.55, 1.5, 1.3, 1.2, 1.2, 1.3, 1.5, 1.7, 1.65, 1.3, 0.8, 0.4]
/** Relative rate by local day of week (Sunday first). */
const WEEK_SHAPE = [1.15, 0.85, 0.9, 0.95, 1.0, 1.15, 1.3]
const TZ_OFFSET_H = -5

export interface OpsProfile {
  /** orders per hour at shape 1.0 */
  baseRate: number
  avgOrderValue: number
  customers: number
}

export interface Incident {
  kind: 'outage' | 'revenue_spike' | 'fulfillment_delay'
  hourStart: Date
}

export interface OpsData {
  customers: { external_id: string; first_name: string; last_name: string; email: string; phone: string; created_at: Date }[]
  orders: { external_id: string; customer: number; status: string; fulfillment_status: string; total_price: number; created_at: Date; fulfilled_at: Date | null }[]
  sessions: { external_id: string; started_at: Date; converted: boolean }[]
  conversations: { external_id: string; customer: number; channel: string; subject: string; customer_message: string; created_at: Date; agent: (typeof AGENTS)[number] }[]
  queries: { external_id: string; conversation: number | null; agent_type: string; query_text: string; response_text: string; latency_ms: number; approved: boolean; human_edited: boolean; accuracy_score: number | null; helpfulness_score: number | null; tone_score: number | null; safe_to_send: boolean | null; created_at: Date }[]
  items: { external_id: string; conversation: number; query: number; agent_type: string; draft_reply: string; edited_reply: string | null; priority: string; confidence: number; status: string; reviewed_at: Date | null; review_notes: string | null; created_at: Date }[]
  examples: { external_id: string; conversation: number; item: number; input_text: string; model_draft: string; safe_to_send: boolean; category: string; sentiment: string; tone: string; accuracy_score: number; helpfulness_score: number; tone_score: number; annotator: string; notes: string; model_confidence: number; response_time_ms: number; created_at: Date }[]
  incidents: Incident[]
}

const hourOf = (t: number) => Math.floor(t / HOUR) * HOUR
/** The expected number of orders in the UTC hour starting at t. */
export function expectedOrders(p: OpsProfile, t: number, start: number) {
  const local = new Date(t + TZ_OFFSET_H * HOUR)
  const growth = 1 + 0.002 * ((t - start) / (24 * HOUR))
  return p.baseRate * DAY_SHAPE[local.getUTCHours()] * WEEK_SHAPE[local.getUTCDay()] * growth
}

function poisson(rng: () => number, lambda: number) {
  if (lambda > 40) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rng)))
  const l = Math.exp(-lambda)
  let k = 0
  let p = 1
  do {
    k++
    p *= rng()
  } while (p > l)
  return k - 1
}
function normal(rng: () => number) {
  return Math.sqrt(-2 * Math.log(rng() || 1e-12)) * Math.cos(2 * Math.PI * rng())
}
const pickOf = <T,>(rng: () => number, xs: readonly T[]) => xs[Math.floor(rng() * xs.length)]
const round2 = (x: number) => Math.round(x * 100) / 100
const clampScore = (x: number) => Math.min(5, Math.max(1, Math.round(x * 10) / 10))

/**
 * Chooses where the incidents go: the busiest hours of the last 30 complete hours, so each is clearly visible against
 * its seasonal baseline whatever the time of day `now` is. Fulfillment needs an hour that ended 6–30 h ago.
 */
function placeIncidents(p: OpsProfile, now: number, start: number): Incident[] {
  const end = hourOf(now)
  const hours = Array.from({ length: 30 }, (_, i) => end - (i + 1) * HOUR)
  const byRate = [...hours].sort((a, b) => expectedOrders(p, b, start) - expectedOrders(p, a, start))
  const used = new Set<number>()
  const take = (ok: (h: number) => boolean) => {
    const h = byRate.find((x) => ok(x) && !used.has(x) && !used.has(x - HOUR) && !used.has(x + HOUR))!
    used.add(h)
    return h
  }
  const outage = take((h) => h >= end - 24 * HOUR)
  const spike = take((h) => h >= end - 24 * HOUR)
  const delay = take((h) => h < end - 6 * HOUR)
  return [
    { kind: 'outage', hourStart: new Date(outage) },
    { kind: 'revenue_spike', hourStart: new Date(spike) },
    { kind: 'fulfillment_delay', hourStart: new Date(delay) },
  ]
}

/** Generates one tenant's operations data (pure: no database). `incidents: false` gives normal seasonal data only. */
export function generateOpsData(rng: () => number, now: Date, opts: { days?: number; profile?: Partial<OpsProfile>; incidents?: boolean } = {}): OpsData {
  const p: OpsProfile = { baseRate: 10, avgOrderValue: 85, customers: 3000, ...opts.profile }
  const days = opts.days ?? 90
  const nowMs = now.getTime()
  const end = hourOf(nowMs)
  const start = end - days * 24 * HOUR
  const incidents = opts.incidents === false ? [] : placeIncidents(p, nowMs, start)
  const incidentAt = new Map(incidents.map((i) => [i.hourStart.getTime(), i.kind]))
  const d: OpsData = { customers: [], orders: [], sessions: [], conversations: [], queries: [], items: [], examples: [], incidents }

  const newCustomer = (at: number) => {
    const first = pickOf(rng, FIRST_NAMES)
    const last = pickOf(rng, LAST_NAMES)
    const n = d.customers.length
    d.customers.push({
      external_id: `cus_${n + 1}`,
      first_name: first,
      last_name: last,
      email: `${first}.${last}${n}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, ''),
      phone: `+1 (${200 + Math.floor(rng() * 700)}) 555-${String(Math.floor(rng() * 10000)).padStart(4, '0')}`,
      created_at: new Date(at),
    })
    return n
  }

  // Up to the current moment: the in-progress hour gets the orders placed so far.
  for (let h = start; h <= end; h += HOUR) {
    const kind = incidentAt.get(h)
    let lambda = expectedOrders(p, h, start)
    if (kind === 'outage') lambda *= 0.05
    const span = h === end ? Math.max(0, nowMs - end) : HOUR
    const n = poisson(rng, (lambda * span) / HOUR)
    const sessions = poisson(rng, (lambda * 1.3 * span) / HOUR)
    for (let i = 0; i < sessions; i++) {
      d.sessions.push({ external_id: `ses_${d.sessions.length + 1}`, started_at: new Date(h + Math.floor(rng() * span)), converted: i < n })
    }
    const extra = kind === 'revenue_spike' ? 6 : 0
    for (let i = 0; i < n + extra; i++) {
      const at = h + Math.floor(rng() * span)
      const returning = d.customers.length > 20 && rng() < 0.45
      const customer = returning ? Math.floor(d.customers.length * Math.sqrt(rng())) : newCustomer(at)
      // wholesale orders during the spike; otherwise lognormal basket values
      const value = i >= n ? 1200 + rng() * 800 : p.avgOrderValue * Math.exp(0.55 * normal(rng) - 0.15)
      const cancelled = rng() < 0.02
      const delayH = kind === 'fulfillment_delay' ? (rng() < 0.7 ? 40 + rng() * 20 : 0.5 + rng()) : rng() < 0.03 ? 24 + rng() * 24 : 0.3 + -Math.log(rng() || 1e-9) * 1.2
      const fulfilledAt = at + delayH * HOUR
      const fulfilled = !cancelled && fulfilledAt <= nowMs
      d.orders.push({
        external_id: `ord_${d.orders.length + 1001}`,
        customer,
        status: cancelled ? 'cancelled' : rng() < 0.01 ? 'refunded' : 'paid',
        fulfillment_status: fulfilled ? 'fulfilled' : 'unfulfilled',
        total_price: round2(Math.max(5, value)),
        created_at: new Date(at),
        fulfilled_at: fulfilled ? new Date(fulfilledAt) : null,
      })
    }
    // Customer conversations follow orders with a lag; about one for every five orders.
    const convs = poisson(rng, (lambda * span) / HOUR / 5)
    for (let i = 0; i < convs && d.customers.length; i++) addConversation(d, rng, h + Math.floor(rng() * span), nowMs)
    // Agent queries without a conversation (product search on the storefront).
    const searches = poisson(rng, (lambda * 0.25 * span) / HOUR)
    for (let i = 0; i < searches; i++) {
      const approved = rng() < 0.9
      const scored = rng() < 0.3
      d.queries.push({
        external_id: `aq_${d.queries.length + 1}`,
        conversation: null,
        agent_type: 'product_search',
        query_text: `search: ${pickOf(rng, PRODUCTS)}`,
        response_text: `Top results for ${pickOf(rng, PRODUCTS)}`,
        latency_ms: Math.round(120 + 140 * Math.exp(0.5 * normal(rng))),
        approved,
        human_edited: !approved && rng() < 0.5,
        accuracy_score: scored ? clampScore(4.2 + 0.6 * normal(rng)) : null,
        helpfulness_score: scored ? clampScore(4.3 + 0.5 * normal(rng)) : null,
        tone_score: scored ? clampScore(4.6 + 0.4 * normal(rng)) : null,
        safe_to_send: scored ? rng() < 0.95 : null,
        created_at: new Date(h + Math.floor(rng() * span)),
      })
    }
  }
  keepQueueStocked(d, 12)
  return d
}

/** The newest `n` drafts wait for a reviewer whatever the hour, so the queue is never empty in a demo at night. */
function keepQueueStocked(d: OpsData, n: number) {
  const cut = Math.max(0, d.items.length - n)
  for (const it of d.items.slice(cut)) {
    if (it.status === 'pending') continue
    Object.assign(it, { status: 'pending', reviewed_at: null, edited_reply: null, review_notes: null })
    Object.assign(d.queries[it.query], { approved: false, human_edited: false, accuracy_score: null, helpfulness_score: null, tone_score: null, safe_to_send: null })
  }
  d.examples = d.examples.filter((e) => e.item < cut)
}

function addConversation(d: OpsData, rng: () => number, at: number, nowMs: number) {
  const ci = Math.floor(rng() * d.customers.length)
  const c = d.customers[ci]
  const agent = pickOf(rng, AGENTS)
  const orderNo = 1001 + Math.floor(rng() * Math.max(1, d.orders.length))
  const product = pickOf(rng, PRODUCTS)
  const address = `${10 + Math.floor(rng() * 9000)} ${pickOf(rng, STREETS)}, Springfield, IL 62704`
  const messages: Record<(typeof AGENTS)[number], string> = {
    shipping_assistant: `Hi, this is ${c.first_name} ${c.last_name}. When will order #${orderNo} ship? Please send it to ${address}.`,
    order_status: `My order #${orderNo} still says pending. You can email me at ${c.email} or call ${c.phone}.`,
    returns_assistant: `Hello, I'd like to return the ${product} from order #${orderNo}. It doesn't fit. Thanks, ${c.first_name}`,
    product_search: `Does the ${product} come in other sizes or colours? - ${c.first_name} ${c.last_name}`,
    billing_assistant: `I was charged twice for order #${orderNo} on my card 4111 1111 1111 1111. Please refund, ${c.first_name} (${c.phone}).`,
  }
  const drafts: Record<(typeof AGENTS)[number], string> = {
    shipping_assistant: `Hi ${c.first_name}, thanks for reaching out! Order #${orderNo} will ship within 2-3 business days to ${address}.`,
    order_status: `Hi ${c.first_name}, order #${orderNo} has been paid and is being packed; you'll get tracking at ${c.email} soon.`,
    returns_assistant: `Hi ${c.first_name}, sorry the ${product} didn't fit. I've started a free return for order #${orderNo}; the label is on its way.`,
    product_search: `Hi ${c.first_name}, the ${product} comes in sizes XS-XXL and three colours. Want me to check stock for you?`,
    billing_assistant: `Hi ${c.first_name} ${c.last_name}, I'm sorry about the double charge on order #${orderNo}. I've refunded the duplicate; it takes 3-5 days.`,
  }
  const conv = d.conversations.length
  d.conversations.push({
    external_id: `conv_${conv + 1}`,
    customer: ci,
    channel: pickOf(rng, ['email', 'chat', 'chat', 'sms']),
    subject: `${CATEGORY[agent].replace('_', ' ')} #${orderNo}`,
    customer_message: messages[agent],
    created_at: new Date(at),
    agent,
  })
  const latency = Math.round(180 + 160 * Math.exp(0.5 * normal(rng)))
  const draftedAt = at + latency
  const confidence = Math.min(99, Math.max(40, Math.round(86 + 9 * normal(rng))))
  const age = nowMs - draftedAt
  // Items older than a couple of hours have been decided; the newest wait for a reviewer.
  const decided = age > 2 * HOUR || (age > 20 * 60_000 && rng() < 0.5)
  const roll = rng() + (confidence - 86) / 100
  const status = !decided ? 'pending' : roll < 0.12 ? 'rejected' : roll < 0.28 ? 'edited' : 'approved'
  const reviewedAt = decided ? Math.min(nowMs, draftedAt + (5 + -Math.log(rng() || 1e-9) * 35) * 60_000) : null
  const priority = agent === 'billing_assistant' ? (rng() < 0.4 ? 'urgent' : 'high') : rng() < 0.05 ? 'urgent' : rng() < 0.25 ? 'high' : rng() < 0.85 ? 'normal' : 'low'
  const scored = decided && rng() < 0.8
  const query = d.queries.length
  d.queries.push({
    external_id: `aq_${query + 1}`,
    conversation: conv,
    agent_type: agent,
    query_text: messages[agent],
    response_text: drafts[agent],
    latency_ms: latency,
    approved: status === 'approved' || status === 'edited',
    human_edited: status === 'edited',
    accuracy_score: scored ? clampScore(4.1 + 0.7 * normal(rng) - (status === 'rejected' ? 1.2 : 0)) : null,
    helpfulness_score: scored ? clampScore(4.3 + 0.6 * normal(rng)) : null,
    tone_score: scored ? clampScore(4.6 + 0.4 * normal(rng)) : null,
    safe_to_send: scored ? status !== 'rejected' : null,
    created_at: new Date(draftedAt),
  })
  const item = d.items.length
  d.items.push({
    external_id: `draft_${item + 1}`,
    conversation: conv,
    query,
    agent_type: agent,
    draft_reply: drafts[agent],
    edited_reply: status === 'edited' ? `${drafts[agent]} Let me know if there's anything else I can do.` : null,
    priority,
    confidence,
    status,
    reviewed_at: reviewedAt === null ? null : new Date(reviewedAt),
    review_notes: status === 'rejected' ? 'Wrong policy cited' : null,
    created_at: new Date(draftedAt),
  })
  if (decided && reviewedAt !== null && rng() < 0.6) {
    const safe = status !== 'rejected' && rng() < 0.95
    const acc = clampScore((status === 'rejected' ? 2.8 : 4.3) + 0.6 * normal(rng))
    d.examples.push({
      external_id: `ex_${d.examples.length + 1}`,
      conversation: conv,
      item,
      input_text: messages[agent],
      model_draft: drafts[agent],
      safe_to_send: safe,
      category: CATEGORY[agent],
      sentiment: agent === 'billing_assistant' ? 'negative' : rng() < 0.35 ? 'positive' : rng() < 0.85 ? 'neutral' : 'negative',
      tone: pickOf(rng, TONES),
      accuracy_score: acc,
      helpfulness_score: clampScore(acc + 0.2 + 0.4 * normal(rng)),
      tone_score: clampScore(4.6 + 0.4 * normal(rng)),
      annotator: pickOf(rng, ANNOTATORS),
      notes: status === 'rejected' ? `Reply to ${c.first_name} cited the wrong policy` : status === 'edited' ? 'Good, added a closing line' : 'Good response',
      model_confidence: confidence,
      response_time_ms: latency,
      created_at: new Date(Math.min(nowMs, reviewedAt + 10 * 60_000)),
    })
  }
}

const CHUNK = 20_000
async function insertChunks<T>(db: Sql, rows: T[], fn: (chunk: T[]) => Promise<unknown>) {
  for (let i = 0; i < rows.length; i += CHUNK) await fn(rows.slice(i, i + CHUNK))
}
// Every array goes as text[] and is cast in SQL: postgres.js would guess a boolean[] or numeric[] parameter's type wrong.
const col = <T, K extends keyof T>(rows: T[], k: K) => rows.map((r) => (r[k] == null ? null : String(r[k])))
const iso = (d: Date | null) => (d ? d.toISOString() : null)

/** Writes generated data for one tenant (as the owner: the seeder runs outside any caller). Returns the database ids. */
export async function insertOpsData(db: Sql, tenantId: string, d: OpsData) {
  const ids = { customers: [] as number[], conversations: [] as number[], queries: [] as number[], items: [] as number[] }
  await insertChunks(db, d.customers, async (c) => {
    const r = await db.query<{ id: number }>(
      `insert into public.customers (tenant_id, external_id, first_name, last_name, email, phone, created_at)
       select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) returning id`,
      [tenantId, col(c, 'external_id'), col(c, 'first_name'), col(c, 'last_name'), col(c, 'email'), col(c, 'phone'), c.map((x) => iso(x.created_at))],
    )
    ids.customers.push(...r.rows.map((x) => x.id))
  })
  await insertChunks(db, d.orders, (o) =>
    db.query(
      `insert into public.orders (tenant_id, external_id, customer_id, status, fulfillment_status, total_price, created_at, updated_at, fulfilled_at)
       select $1, e, c, s, f, p, t, t, ft from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::numeric[], $7::timestamptz[], $8::timestamptz[]) as u(e, c, s, f, p, t, ft)`,
      [tenantId, col(o, 'external_id'), o.map((x) => String(ids.customers[x.customer])), col(o, 'status'), col(o, 'fulfillment_status'), col(o, 'total_price'), o.map((x) => iso(x.created_at)), o.map((x) => iso(x.fulfilled_at))],
    ),
  )
  await insertChunks(db, d.sessions, (s) =>
    db.query(
      `insert into public.storefront_sessions (tenant_id, external_id, started_at, converted)
       select $1, * from unnest($2::text[], $3::timestamptz[], $4::boolean[])`,
      [tenantId, col(s, 'external_id'), s.map((x) => iso(x.started_at)), col(s, 'converted')],
    ),
  )
  await insertChunks(db, d.conversations, async (c) => {
    const r = await db.query<{ id: number }>(
      `insert into public.conversations (tenant_id, external_id, customer_id, channel, subject, customer_message, created_at)
       select $1, * from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) returning id`,
      [tenantId, col(c, 'external_id'), c.map((x) => String(ids.customers[x.customer])), col(c, 'channel'), col(c, 'subject'), col(c, 'customer_message'), c.map((x) => iso(x.created_at))],
    )
    ids.conversations.push(...r.rows.map((x) => x.id))
  })
  await insertChunks(db, d.queries, async (q) => {
    const r = await db.query<{ id: number }>(
      `insert into public.agent_queries (tenant_id, external_id, conversation_id, agent_type, query_text, response_text, latency_ms,
         approved, human_edited, accuracy_score, helpfulness_score, tone_score, safe_to_send, created_at)
       select $1, * from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[], $8::boolean[], $9::boolean[],
         $10::numeric[], $11::numeric[], $12::numeric[], $13::boolean[], $14::timestamptz[]) returning id`,
      [tenantId, col(q, 'external_id'), q.map((x) => (x.conversation === null ? null : String(ids.conversations[x.conversation]))), col(q, 'agent_type'),
        col(q, 'query_text'), col(q, 'response_text'), col(q, 'latency_ms'), col(q, 'approved'), col(q, 'human_edited'), col(q, 'accuracy_score'),
        col(q, 'helpfulness_score'), col(q, 'tone_score'), col(q, 'safe_to_send'), q.map((x) => iso(x.created_at))],
    )
    ids.queries.push(...r.rows.map((x) => x.id))
  })
  await insertChunks(db, d.items, async (it) => {
    const r = await db.query<{ id: number }>(
      `insert into public.approval_queue_items (tenant_id, external_id, conversation_id, agent_query_id, agent_type, draft_reply, edited_reply,
         priority, confidence, status, reviewed_at, review_notes, reviewer_name, created_at, updated_at)
       select $1, e, c, q, a, dr, er, p, cf, s, ra, rn, case when ra is null then null else 'demo reviewer' end, t, coalesce(ra, t)
       from unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::numeric[], $10::text[],
         $11::timestamptz[], $12::text[], $13::timestamptz[]) as u(e, c, q, a, dr, er, p, cf, s, ra, rn, t) returning id`,
      [tenantId, col(it, 'external_id'), it.map((x) => String(ids.conversations[x.conversation])), it.map((x) => String(ids.queries[x.query])), col(it, 'agent_type'),
        col(it, 'draft_reply'), col(it, 'edited_reply'), col(it, 'priority'), col(it, 'confidence'), col(it, 'status'), it.map((x) => iso(x.reviewed_at)),
        col(it, 'review_notes'), it.map((x) => iso(x.created_at))],
    )
    ids.items.push(...r.rows.map((x) => x.id))
  })
  await insertChunks(db, d.examples, (e) =>
    db.query(
      `insert into public.training_examples (tenant_id, external_id, conversation_id, queue_item_id, input_text, model_draft, safe_to_send, category,
         sentiment, tone, accuracy_score, helpfulness_score, tone_score, annotator, notes, model_confidence, response_time_ms, created_at)
       select $1, * from unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::text[], $10::text[],
         $11::numeric[], $12::numeric[], $13::numeric[], $14::text[], $15::text[], $16::numeric[], $17::int[], $18::timestamptz[])`,
      [tenantId, col(e, 'external_id'), e.map((x) => String(ids.conversations[x.conversation])), e.map((x) => String(ids.items[x.item])), col(e, 'input_text'),
        col(e, 'model_draft'), col(e, 'safe_to_send'), col(e, 'category'), col(e, 'sentiment'), col(e, 'tone'), col(e, 'accuracy_score'),
        col(e, 'helpfulness_score'), col(e, 'tone_score'), col(e, 'annotator'), col(e, 'notes'), col(e, 'model_confidence'), col(e, 'response_time_ms'),
        e.map((x) => iso(x.created_at))],
    ),
  )
  return ids
}

const PROFILES: OpsProfile[] = [
  { baseRate: 10, avgOrderValue: 85, customers: 3000 },
  { baseRate: 5, avgOrderValue: 140, customers: 1500 },
]

/** The foundation's seeder step: 90 days of operations data for each demo tenant, then the views refreshed. */
export async function seedOps(db: Sql, tenants: { id: string }[], rng: () => number, now: Date) {
  for (const [i, t] of tenants.entries()) {
    const data = generateOpsData(seededRandom(Math.floor(rng() * 2 ** 32)), now, { profile: PROFILES[i % PROFILES.length] })
    await insertOpsData(db, t.id, data)
  }
  await db.query(`select analytics.refresh_views()`)
}

/**
 * Dev simulator (the lead calls it every few seconds): each tenant that has shop data gets a few new orders, some
 * older orders get fulfilled, and now and then a customer writes in and the agent drafts a reply for the queue.
 */
export async function simulateOpsActivity(db: Db, rng: () => number = Math.random) {
  const { rows: tenants } = await db.query<{ tenant_id: string }>(
    `select distinct tenant_id from public.orders where created_at > now() - interval '7 days'`,
  )
  for (const { tenant_id } of tenants) {
    const n = Math.floor(rng() * 3)
    if (n) {
      await db.query(
        `insert into public.orders (tenant_id, external_id, customer_id, total_price, status, fulfillment_status)
         select $1, 'sim_' || gen_random_uuid(), (select id from public.customers where tenant_id = $1 order by random() limit 1),
                round((20 + random() * 180)::numeric, 2), 'paid', 'unfulfilled'
         from generate_series(1, $2)`,
        [tenant_id, n],
      )
    }
    await db.query(
      `update public.orders set fulfillment_status = 'fulfilled', fulfilled_at = now()
       where id in (select id from public.orders where tenant_id = $1 and fulfillment_status <> 'fulfilled' and status = 'paid'
                    and created_at < now() - interval '20 minutes' order by created_at limit 3)`,
      [tenant_id],
    )
    if (rng() < 0.3) {
      const agent = pickOf(rng, AGENTS)
      const product = pickOf(rng, PRODUCTS)
      await db.query(
        `with c as (select id, first_name from public.customers where tenant_id = $1 order by random() limit 1),
         conv as (
           insert into public.conversations (tenant_id, external_id, customer_id, channel, subject, customer_message)
           select $1, 'sim_' || gen_random_uuid(), c.id, 'chat', $3, 'Question about the ' || $4 || ' I ordered last week.' from c
           returning id, customer_id),
         q as (
           insert into public.agent_queries (tenant_id, external_id, conversation_id, agent_type, query_text, response_text, latency_ms)
           select $1, 'sim_' || gen_random_uuid(), conv.id, $2, 'Question about the ' || $4, 'Drafted reply', (150 + random() * 400)::int from conv
           returning id, conversation_id)
         insert into public.approval_queue_items (tenant_id, external_id, conversation_id, agent_query_id, agent_type, draft_reply, priority, confidence)
         select $1, 'sim_' || gen_random_uuid(), q.conversation_id, q.id, $2,
                'Hi ' || coalesce(c.first_name, 'there') || ', thanks for asking about the ' || $4 || '. Here is what I found...',
                (array['urgent','high','normal','normal','low'])[1 + floor(random() * 5)::int], round((55 + random() * 44)::numeric, 2)
         from q cross join c`,
        [tenant_id, agent, `${CATEGORY[agent].replace('_', ' ')}`, product],
      )
    }
  }
  if (tenants.length) requestOpsRefresh(10_000)
}
