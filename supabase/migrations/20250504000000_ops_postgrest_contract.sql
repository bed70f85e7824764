/*
  Operations analytics: the HD spec's database contract where PostgREST serves it (issue 10.5, decision 013).

  The spec's loaders call the database the Supabase way — supabase.rpc('get_dashboard_summary'),
  rpc('get_hourly_trends', { hours_back }), rpc('get_active_anomalies'), rpc('export_training_dataset', …) and
  SELECT * FROM approval_queue_metrics / agent_accuracy_metrics / training_quality_metrics / agent_performance_summary —
  and supabase/config.toml exposes `public` (and graphql_public) only. These are thin wrappers in `public` over the
  `analytics` functions the API calls, so both front doors give the same answer:
  - each wrapper runs as its caller (security invoker); the analytics function it calls is the security definer one
    that checks the caller's tenant and permission (42501 otherwise, which PostgREST answers 401 for anon and 403 for
    a signed-in caller) and reads the materialized views, which stay in `analytics_private`, unexposed and ungranted;
  - the views are security_invoker views over those functions: they hold no privilege of their own, and a filter a
    client adds (`?day_bucket=gte.2025-10-01`) applies to the function's rows (the API's last 30 days at most);
  - anon may call and read none of them (Supabase's default privileges would grant anon everything created in
    public: revoked explicitly).
  export_training_dataset through PostgREST requires analytics.export_pii even without include_pii: the database
  scrubs only the linked customer's name, emails, card and phone numbers, while the API endpoint
  (POST /api/v1/analytics/export/training-data) applies the full redaction on top; a caller who may not see personal
  data must use the endpoint. PostgREST's max_rows (1000 in config.toml) pages longer exports: request ranges.
*/

create function public.get_dashboard_summary() returns jsonb
language sql stable security invoker set search_path = ''
as $$ select analytics.get_dashboard_summary() $$;

create function public.get_hourly_trends(hours_back int default 24)
returns table (
  hour_start timestamptz, total_orders int, total_revenue numeric, avg_order_value numeric, fulfillment_rate_pct numeric,
  orders_fulfilled int, orders_pending int, new_customers int, active_customers int, returning_customers int,
  total_sessions int, orders_hoh_pct_change numeric, revenue_hoh_pct_change numeric, orders_refunded int)
language sql stable security invoker set search_path = ''
as $$ select * from analytics.get_hourly_trends(hours_back) $$;

create function public.get_active_anomalies()
returns table (
  hour_start timestamptz, anomaly_type text, deviation_pct numeric, severity text, total_orders int,
  avg_orders_24h numeric, total_revenue numeric, avg_revenue_24h numeric, fulfillment_rate_pct numeric,
  avg_fulfillment_24h numeric, metric text, observed_value numeric, expected numeric, scale numeric, robust_z numeric,
  baseline_weeks int)
language sql stable security invoker set search_path = ''
as $$ select * from analytics.get_active_anomalies() $$;

create function public.export_training_dataset(include_pii boolean default false, date_from timestamptz default null, date_to timestamptz default null)
returns table (
  conversation_id bigint, input_text text, model_draft text, safe_to_send boolean, category text, sentiment text,
  tone text, accuracy_score numeric, helpfulness_score numeric, tone_score numeric, notes text, confidence numeric,
  response_time_ms int, created_at timestamptz)
language plpgsql stable security invoker set search_path = ''
as $$
begin
  if not (select app.has_permission('analytics.export_pii')) then
    raise exception 'exporting through the database needs analytics.export_pii (it redacts less than the API): use POST /api/v1/analytics/export/training-data'
      using errcode = '42501';
  end if;
  return query
  select e.conversation_id, e.input_text, e.model_draft, e.safe_to_send, e.category, e.sentiment, e.tone, e.accuracy_score,
         e.helpfulness_score, e.tone_score, e.notes, e.confidence, e.response_time_ms, e.created_at
  from analytics.export_training_dataset(include_pii, date_from, date_to) e;
end
$$;

revoke execute on function public.get_dashboard_summary(), public.get_hourly_trends(int), public.get_active_anomalies(),
  public.export_training_dataset(boolean, timestamptz, timestamptz) from public, anon;
grant execute on function public.get_dashboard_summary(), public.get_hourly_trends(int), public.get_active_anomalies(),
  public.export_training_dataset(boolean, timestamptz, timestamptz) to authenticated, service_role;

-- GET /agent/queue (groupBy=day): the last 30 UTC days, newest first.
create view public.approval_queue_metrics with (security_invoker = true) as
select (q.bucket_start at time zone 'UTC')::date as day_bucket, q.total_items, q.pending_count, q.approved_count,
       q.rejected_count, q.edited_count, q.urgent_count, q.high_count, q.normal_count, q.low_count, q.avg_confidence,
       q.min_confidence, q.max_confidence, q.avg_resolution_minutes, q.metrics_updated_at
from analytics.get_queue_metrics('day', 30) q;

-- GET /agent/accuracy: per agent type and UTC day, the last 30 days.
create view public.agent_accuracy_metrics with (security_invoker = true) as
select * from analytics.get_agent_accuracy(30);

-- GET /agent/quality: per UTC day, the last 30 days.
create view public.training_quality_metrics with (security_invoker = true) as
select * from analytics.get_training_quality(30);

-- GET /agent/summary: one row, the last 24 complete hours.
create view public.agent_performance_summary with (security_invoker = true) as
select s ->> 'time_period' as time_period, (s ->> 'pending_approvals')::int as pending_approvals,
       (s ->> 'approvals_24h')::int as approvals_24h, (s ->> 'avg_confidence_24h')::numeric as avg_confidence_24h,
       (s ->> 'queries_24h')::int as queries_24h, (s ->> 'avg_latency_24h')::numeric as avg_latency_24h,
       (s ->> 'approved_queries_24h')::int as approved_queries_24h, (s ->> 'training_examples_24h')::int as training_examples_24h,
       (s ->> 'safe_examples_24h')::int as safe_examples_24h, (s ->> 'avg_accuracy_24h')::numeric as avg_accuracy_24h,
       (s ->> 'summary_updated_at')::timestamptz as summary_updated_at
from (select analytics.get_agent_summary() as s) x;

revoke all on public.approval_queue_metrics, public.agent_accuracy_metrics, public.training_quality_metrics,
  public.agent_performance_summary from public, anon, authenticated, service_role;
grant select on public.approval_queue_metrics, public.agent_accuracy_metrics, public.training_quality_metrics,
  public.agent_performance_summary to authenticated, service_role;
