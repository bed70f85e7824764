import { z } from 'zod'
import { withoutNul } from '#app/http/schemas.ts'
import { AGGREGATIONS, parseDuration } from './windows.ts'

/**
 * Request bodies of the real-time streams (AS spec `POST /stream/create`), shared by the routes, the Streams page and
 * the OpenAPI document. Objects are strict: an unknown key is a 400 naming it.
 */

const duration = (what: string, opts: { zero?: boolean } = {}) =>
  z
    .string(`must be a duration such as '30s', '5m' or '1h'`)
    .max(20)
    .refine((s) => (opts.zero && /^0+(\.0+)?\s*(ms|s|m|h|d)?$/.test(s.trim())) || parseDuration(s) !== null, `must be a duration such as '30s', '5m' or '1h' (${what})`)

export const fieldName = z
  .string('must be a field name')
  .min(1, 'must be a field name')
  .max(128)
  .refine(withoutNul, 'must not contain NUL characters')

export const streamSource = z.discriminatedUnion(
  'type',
  [
    /** events POSTed in batches to /api/v1/stream/{id}/events */
    z.strictObject({ type: z.literal('http') }),
    /** a Redis Stream (key hotdash:stream:<id> on the server's REDIS_URL) read by a consumer group */
    z.strictObject({ type: z.literal('redis') }),
    /** a NATS JetStream subject (hotdash.stream.<id> on the server's NATS_URL) read by a durable consumer */
    z.strictObject({ type: z.literal('nats') }),
    /** a Kafka topic read by a consumer group; the brokers must be among the server's KAFKA_BROKERS */
    z.strictObject({
      type: z.literal('kafka'),
      topic: z.string().min(1).max(249).regex(/^[A-Za-z0-9._-]+$/, 'must be a Kafka topic name'),
      brokers: z.array(z.string().min(1).max(255).regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')).min(1).max(20).optional(),
    }),
  ],
  { error: "must be one of 'http', 'redis', 'nats', 'kafka'" },
)
export type StreamSource = z.infer<typeof streamSource>

export const aggregation = z.enum(AGGREGATIONS, `must be one of ${AGGREGATIONS.join(', ')}`)

export const streamAnalytics = z
  .strictObject({
    /** window length: '5m', '1h' … */
    window: duration('window'),
    type: z.enum(['tumbling', 'sliding'], "must be 'tumbling' or 'sliding'").default('tumbling'),
    /** distance between window starts of sliding windows (tumbling: the window itself) */
    slide: duration('slide').optional(),
    aggregations: z.array(aggregation).min(1, 'must name at least one aggregation').max(AGGREGATIONS.length),
    /** the event's numeric field the aggregations (but count) read */
    value_field: fieldName.default('value'),
    /** the event's time field: epoch milliseconds or an ISO-8601 timestamp */
    time_field: fieldName.default('timestamp'),
    group_by: z.array(fieldName).max(5).default([]),
    /** how far behind the newest event time an event still counts */
    allowed_lateness: duration('allowed_lateness', { zero: true }).default('10s'),
    anomaly: z
      .strictObject({
        enabled: z.boolean().default(true),
        aggregation: aggregation.optional(),
        threshold: z.number().positive().max(1000).default(3.5),
        history: z.number().int().min(3).max(500).default(20),
        min_history: z.number().int().min(3).max(500).default(5),
      })
      .default({ enabled: true, threshold: 3.5, history: 20, min_history: 5 }),
  })
  .superRefine((a, ctx) => {
    if (new Set(a.aggregations).size !== a.aggregations.length) ctx.addIssue({ code: 'custom', path: ['aggregations'], message: 'must not repeat an aggregation' })
    const size = parseDuration(a.window)
    if (a.type === 'sliding') {
      if (!a.slide) ctx.addIssue({ code: 'custom', path: ['slide'], message: 'a sliding window needs a slide' })
      else {
        const slide = parseDuration(a.slide)
        if (size && slide && (slide >= size || size / slide > 60))
          ctx.addIssue({ code: 'custom', path: ['slide'], message: 'must be shorter than the window and at least 1/60 of it' })
      }
    } else if (a.slide && parseDuration(a.slide) !== size) ctx.addIssue({ code: 'custom', path: ['slide'], message: 'a tumbling window slides by its own length' })
    if (size && size > 7 * 86_400_000) ctx.addIssue({ code: 'custom', path: ['window'], message: 'must be at most 7 days' })
    if (a.anomaly.aggregation && !a.aggregations.includes(a.anomaly.aggregation))
      ctx.addIssue({ code: 'custom', path: ['anomaly', 'aggregation'], message: 'must be one of the stream’s aggregations' })
    if (a.anomaly.min_history > a.anomaly.history) ctx.addIssue({ code: 'custom', path: ['anomaly', 'min_history'], message: 'must not exceed history' })
  })
export type StreamAnalytics = z.output<typeof streamAnalytics>

export const createStreamBody = z.strictObject({
  stream_name: z.string('must be a name').trim().min(1, 'must be a name').max(100).refine(withoutNul, 'must not contain NUL characters'),
  source: streamSource,
  analytics: streamAnalytics,
})
export type CreateStreamBody = z.infer<typeof createStreamBody>

export const MAX_EVENTS_PER_BATCH = 10_000
/** Events are checked one by one in the server (the error names `events[i].<field>`). */
export const eventsBody = z.strictObject({
  events: z.array(z.record(z.string(), z.unknown()), 'must be an array of event objects').min(1, 'must hold at least one event').max(MAX_EVENTS_PER_BATCH, `at most ${MAX_EVENTS_PER_BATCH} events per batch`),
})

export const streamIdParam = z.object({ stream_id: z.string().regex(/^stream_[0-9a-f]{16}$/, 'must be a stream id (stream_ and 16 hex digits)') })

export const windowsQuery = z.object({
  /** windows starting at or after this time */
  since: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 timestamp' }).optional(),
  key: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
})
