import { z } from 'zod'
import { intId } from '#app/http/schemas.ts'

/**
 * The ops area's inputs, shared by its routes and pages (validation) and the OpenAPI document: the HD read
 * endpoints' query parameters, the approval queue, the training-data export and bulk ingestion. Plain zod, no
 * server code.
 */

// ── HD read endpoints (/api/v1/analytics/dashboard/*, /agent/*) ──

/*
  Query parameters of the HD endpoints. Out-of-range numbers clamp, as the spec's loaders do
  (`Math.min(parseInt(hours), 168)`); values that are not integers at all are a 400 naming the field.
*/
const clampedInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?\d{1,9}$/, 'must be an integer')
    .transform((s) => Math.min(max, Math.max(min, Number(s))))
    .optional()
    .transform((v) => v ?? fallback)

export const HOURS = { min: 1, max: 168, default: 24 }
export const DAYS = { min: 1, max: 30, default: 7 }

export const trendsQuery = z.object({ hours: clampedInt(HOURS.min, HOURS.max, HOURS.default) })
export const daysQuery = z.object({ days: clampedInt(DAYS.min, DAYS.max, DAYS.default) })
export const queueQuery = z.object({
  groupBy: z.enum(['hour', 'day'], 'must be hour or day').default('day'),
  days: clampedInt(DAYS.min, DAYS.max, DAYS.default),
})
const agentTypeParam = z.string().trim().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be an agent type such as product_search')
export const accuracyQuery = z.object({
  days: clampedInt(DAYS.min, DAYS.max, DAYS.default),
  agent: agentTypeParam.optional(),
})

// ── approval queue (/api/v1/approvals) ──

export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const
export const STATUSES = ['pending', 'approved', 'rejected', 'edited'] as const

export const listApprovalsQuery = z.object({
  status: z.enum([...STATUSES, 'all'], 'must be pending, approved, rejected, edited or all').default('pending'),
  priority: z.enum(PRIORITIES, 'must be urgent, high, normal or low').optional(),
  agent_type: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be an agent type').optional(),
  limit: z.coerce.number('must be an integer').int('must be an integer').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
  offset: z.coerce.number('must be an integer').int('must be an integer').min(0, 'must be 0 or more').default(0),
})
export type ListApprovalsQuery = z.infer<typeof listApprovalsQuery>

export const decideInput = z.discriminatedUnion(
  'action',
  [
    z.object({ action: z.literal('approve'), notes: z.string().max(2000).optional() }),
    z.object({ action: z.literal('reject'), notes: z.string().max(2000).optional() }),
    z.object({
      action: z.literal('edit'),
      edited_reply: z.string('the edited reply is required').trim().min(1, 'must not be empty').max(10_000, 'must be at most 10000 characters'),
      notes: z.string().max(2000).optional(),
    }),
  ],
  'action must be approve, reject or edit',
)
export type DecideInput = z.infer<typeof decideInput>

/** GET / POST /api/v1/approvals/{id} */
export const approvalIdParams = z.object({ id: intId })

// ── training-data export (POST /api/v1/analytics/export/training-data) ──

export const exportBody = z
  .object({
    include_pii: z.boolean('must be true or false').default(false),
    date_from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    date_to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    format: z.enum(['json', 'csv'], 'must be json or csv').default('json'),
  })
  .strict()
export type ExportBody = z.infer<typeof exportBody>

// ── ingestion (POST /api/v1/ingest/{kind}) ──

export const MAX_RECORDS = 5000
// Postgres text cannot hold NUL characters; a record carrying one must fail alone, not the whole batch.
// Same for a lone UTF-16 surrogate, which JSON.parse accepts and Postgres' jsonb does not.
const noNul = (s: string) => !s.includes('\u0000') && !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)
const NUL_MESSAGE = 'must not contain NUL characters or broken Unicode'
const externalId = z.string('must be a string').trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(noNul, NUL_MESSAGE)
const ref = externalId.optional().nullable()
// The ISO pattern accepts impossible calendar dates (2025-02-31) and year 0000, which Postgres rejects for the whole batch.
const realDate = (s: string) => {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number)
  const day = new Date(Date.UTC(y, m - 1, d))
  return y >= 1 && day.getUTCMonth() === m - 1 && day.getUTCDate() === d
}
const time = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' }).refine(realDate, 'must be a real calendar date')
const MAX_INT = 2_147_483_647 // integer columns
const score = z.number('must be a number').min(1, 'must be between 1 and 5').max(5, 'must be between 1 and 5').nullable().optional()
const agentType = z.string('must be a string').regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be lowercase letters, digits and _')
const text = (max: number) => z.string('must be a string').max(max, `must be at most ${max} characters`).refine(noNul, NUL_MESSAGE)

/** The record each ingest kind accepts, validated one by one (a bad record is reported, the rest kept). */
export const INGEST_RECORDS = {
  customers: z.object({
    external_id: externalId,
    email: z.email('must be an email address').nullable().optional(),
    first_name: text(200).nullable().optional(),
    last_name: text(200).nullable().optional(),
    phone: text(50).nullable().optional(),
    created_at: time.optional(),
  }),
  orders: z
    .object({
      external_id: externalId,
      customer_external_id: ref,
      status: z.enum(['pending', 'paid', 'refunded', 'cancelled'], 'must be pending, paid, refunded or cancelled').default('paid'),
      fulfillment_status: z.enum(['unfulfilled', 'partial', 'fulfilled'], 'must be unfulfilled, partial or fulfilled').default('unfulfilled'),
      total_price: z.number('must be a number').min(0, 'must be 0 or more').max(9_999_999_999.99, 'is too large'),
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter currency code').default('USD'),
      created_at: time,
      fulfilled_at: time.nullable().optional(),
    })
    // compare instants, not strings: the two may carry different offsets
    .refine((o) => !o.fulfilled_at || Date.parse(o.fulfilled_at) >= Date.parse(o.created_at), { path: ['fulfilled_at'], message: 'must not be before created_at' }),
  sessions: z.object({
    external_id: externalId,
    customer_external_id: ref,
    started_at: time,
    landing_page: text(2000).nullable().optional(),
    converted: z.boolean('must be true or false').default(false),
  }),
  conversations: z.object({
    external_id: externalId,
    customer_external_id: ref,
    channel: z.enum(['email', 'chat', 'sms', 'social', 'phone'], 'must be email, chat, sms, social or phone').default('email'),
    subject: text(500).nullable().optional(),
    customer_message: text(20_000).min(1, 'must not be empty'),
    created_at: time.optional(),
  }),
  'agent-queries': z.object({
    external_id: externalId,
    conversation_external_id: ref,
    agent_type: agentType,
    query_text: text(20_000).nullable().optional(),
    response_text: text(20_000).nullable().optional(),
    latency_ms: z.number('must be a number').int('must be an integer').min(0, 'must be 0 or more').max(MAX_INT, 'is too large'),
    approved: z.boolean('must be true or false').default(false),
    human_edited: z.boolean('must be true or false').default(false),
    accuracy_score: score,
    helpfulness_score: score,
    tone_score: score,
    safe_to_send: z.boolean('must be true or false').nullable().optional(),
    created_at: time.optional(),
  }),
  drafts: z.object({
    external_id: externalId,
    conversation_external_id: ref,
    agent_query_external_id: ref,
    agent_type: agentType,
    draft_reply: text(20_000).min(1, 'must not be empty'),
    priority: z.enum(['urgent', 'high', 'normal', 'low'], 'must be urgent, high, normal or low').default('normal'),
    confidence: z.number('must be a number').min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100').nullable().optional(),
    created_at: time.optional(),
  }),
  annotations: z.object({
    external_id: externalId,
    conversation_external_id: ref,
    draft_external_id: ref,
    input_text: text(20_000).min(1, 'must not be empty'),
    model_draft: text(20_000).min(1, 'must not be empty'),
    safe_to_send: z.boolean('must be true or false'),
    category: text(100).nullable().optional(),
    sentiment: z.enum(['positive', 'neutral', 'negative'], 'must be positive, neutral or negative').nullable().optional(),
    tone: text(100).nullable().optional(),
    accuracy_score: score,
    helpfulness_score: score,
    tone_score: score,
    annotator: text(200).nullable().optional(),
    notes: text(5000).nullable().optional(),
    model_confidence: z.number('must be a number').min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100').nullable().optional(),
    response_time_ms: z.number('must be a number').int('must be an integer').min(0, 'must be 0 or more').max(MAX_INT, 'is too large').nullable().optional(),
    created_at: time.optional(),
  }),
} as const

export type IngestKind = keyof typeof INGEST_RECORDS
export const INGEST_KINDS = Object.keys(INGEST_RECORDS) as IngestKind[]

/** POST /api/v1/ingest/{kind} */
export const ingestKindParams = z.object({ kind: z.enum(INGEST_KINDS, `must be one of ${INGEST_KINDS.join(', ')}`) })

export const ingestBody = z.object({
  records: z
    .array(z.unknown(), 'must be an array of records')
    .min(1, 'must contain at least one record')
    .max(MAX_RECORDS, `must contain at most ${MAX_RECORDS} records per request`),
})
