import type { Sql } from '#app/db/db.server.ts'

/* Agent performance metrics (HD spec §2), read from the materialized views through the analytics functions. */

const at = (now?: Date) => (now ?? new Date()).toISOString()

export async function getQueueMetrics(db: Sql, opts: { groupBy: 'hour' | 'day'; days: number; now?: Date }) {
  const { rows } = await db.query(
    `select case when $1 = 'day' then to_char(bucket_start at time zone 'UTC', 'YYYY-MM-DD') end as day_bucket,
            case when $1 = 'hour' then bucket_start end as hour_bucket,
            total_items, pending_count, approved_count, rejected_count, edited_count, urgent_count, high_count,
            normal_count, low_count, avg_confidence, min_confidence, max_confidence, avg_resolution_minutes, metrics_updated_at
     from analytics.get_queue_metrics($1, $2::int, $3::timestamptz)`,
    [opts.groupBy, opts.days, at(opts.now)],
  )
  // day grouping carries day_bucket (as the spec shows), hour grouping hour_bucket
  return rows.map(({ day_bucket, hour_bucket, ...r }) => (opts.groupBy === 'day' ? { day_bucket, ...r } : { hour_bucket, ...r }))
}

export async function getAgentAccuracy(db: Sql, opts: { days: number; agent?: string; now?: Date }) {
  const { rows } = await db.query(
    `select agent_type, day_bucket::text as day_bucket, total_queries, approved_queries, human_edited_queries,
            approval_rate_pct, edit_rate_pct, avg_latency_ms, max_latency_ms, avg_accuracy_score, avg_helpfulness_score,
            avg_tone_score, safe_to_send_count
     from analytics.get_agent_accuracy($1::int, $2::text, $3::timestamptz)`,
    [opts.days, opts.agent ?? null, at(opts.now)],
  )
  return rows
}

export async function getTrainingQuality(db: Sql, opts: { days: number; now?: Date }) {
  const { rows } = await db.query(
    `select day_bucket::text as day_bucket, total_training_examples, safe_examples, unsafe_examples, safety_rate_pct,
            avg_accuracy, avg_helpfulness, avg_tone, overall_quality_score, high_quality_rate_pct, unique_annotators,
            unique_categories, positive_sentiment, neutral_sentiment, negative_sentiment, avg_model_confidence,
            avg_response_time_ms
     from analytics.get_training_quality($1::int, $2::timestamptz)`,
    [opts.days, at(opts.now)],
  )
  return rows
}

export interface AgentSummary {
  time_period: 'last_24h'
  pending_approvals: number
  approvals_24h: number
  avg_confidence_24h: number | null
  queries_24h: number
  avg_latency_24h: number | null
  approved_queries_24h: number
  training_examples_24h: number
  safe_examples_24h: number
  avg_accuracy_24h: number | null
  summary_updated_at: string
}

export async function getAgentSummary(db: Sql, opts: { now?: Date } = {}): Promise<AgentSummary> {
  const { rows } = await db.query<{ s: AgentSummary & { window_start?: string; window_end?: string } }>(
    `select analytics.get_agent_summary($1::timestamptz) as s`,
    [at(opts.now)],
  )
  const s = rows[0].s
  return { ...s, summary_updated_at: new Date(s.summary_updated_at).toISOString() }
}
