/*
  Operations analytics: window arithmetic independent of the session TimeZone.

  `timestamptz - interval '1 day'` (or make_interval(days/weeks => …)) is calendar arithmetic in the session's
  TimeZone: under America/New_York a day that contains the daylight-saving change is 23 or 25 hours long, so "30 days
  back from midnight UTC" lands one hour off midnight and the day buckets gain a one-hour stub. Every window is now
  counted in hours (an exact duration) from a UTC-truncated instant, so the answers are the same whatever TimeZone
  the session has. The anomaly detector's week offsets are fixed the same way in 20250503000000_ops_anomaly_detector.
*/

/*
  Approval queue metrics (spec: GET /agent/queue) by UTC day or hour of item creation, over the last p_days UTC days
  (clamped to 1..30) including today. avg_confidence = mean over items with a confidence; avg_resolution_minutes =
  mean of reviewed_at - created_at over decided items (null when none decided).
*/
create or replace function analytics.get_queue_metrics(group_by text default 'day', p_days int default 7, p_now timestamptz default now())
returns table (
  bucket_start timestamptz, total_items int, pending_count int, approved_count int, rejected_count int, edited_count int,
  urgent_count int, high_count int, normal_count int, low_count int, avg_confidence numeric, min_confidence numeric,
  max_confidence numeric, avg_resolution_minutes numeric, metrics_updated_at timestamptz)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_days int := least(greatest(coalesce(p_days, 7), 1), 30);
  v_unit text := case when group_by = 'hour' then 'hour' else 'day' end;
  v_from timestamptz := date_trunc('day', p_now, 'UTC') - make_interval(hours => 24 * (v_days - 1));
begin
  return query
  select date_trunc(v_unit, q.hour_start, 'UTC') as b,
         sum(q.total_items)::int, sum(q.pending_count)::int, sum(q.approved_count)::int, sum(q.rejected_count)::int,
         sum(q.edited_count)::int, sum(q.urgent_count)::int, sum(q.high_count)::int, sum(q.normal_count)::int,
         sum(q.low_count)::int,
         round(sum(q.confidence_sum) / nullif(sum(q.confidence_n), 0), 2),
         min(q.min_confidence), max(q.max_confidence),
         round(sum(q.resolution_minutes_sum) / nullif(sum(q.resolved_n), 0), 1),
         (select analytics.last_refreshed_at())
  from analytics_private.approval_queue_metrics q
  where q.tenant_id = v_tenant and q.hour_start >= v_from and q.hour_start <= p_now
  group by 1
  order by 1 desc;
end
$$;
