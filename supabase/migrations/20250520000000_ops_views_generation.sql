/*
  Operations analytics: the views' refresh generation, for the web servers' read cache (decision 018).

  Every HD read endpoint's answer is a function of the tenant, its parameters, the UTC hour of the request and the
  contents of the materialized views, which change only when analytics.refresh_views() commits. The generation is a
  counter bumped by that refresh; the refresh also sends NOTIFY hd_ops_views with the new value, which Postgres
  delivers to every listening web machine when (and only if) the refresh commits. A machine that missed a
  notification reads the row back (analytics_private.refresh_log, one row: a primary-key lookup).
*/

alter table analytics_private.refresh_log add column generation bigint not null default 0;

create or replace function analytics.refresh_views() returns timestamptz
language plpgsql security definer set search_path = ''
as $$
declare
  v_generation bigint;
begin
  -- Order matters: hourly_commerce reads hourly_customer_ids.
  refresh materialized view concurrently analytics_private.hourly_customer_ids;
  refresh materialized view concurrently analytics_private.hourly_commerce;
  refresh materialized view concurrently analytics_private.approval_queue_metrics;
  refresh materialized view concurrently analytics_private.agent_accuracy_metrics;
  refresh materialized view concurrently analytics_private.training_quality_metrics;
  refresh materialized view concurrently analytics_private.agent_performance_summary;
  update analytics_private.refresh_log set refreshed_at = now(), generation = generation + 1 where view_name = 'all'
  returning generation into v_generation;
  -- delivered at commit, to every session listening on the database (a rolled-back refresh sends nothing)
  perform pg_notify('hd_ops_views', v_generation::text);
  return now();
end
$$;

-- The current generation, for the web servers (which read it as the table's owner) and for operators.
create or replace function analytics.views_generation() returns bigint
language sql stable security definer set search_path = ''
as $$ select generation from analytics_private.refresh_log where view_name = 'all' $$;

revoke execute on function analytics.views_generation() from public, anon;
grant execute on function analytics.views_generation() to authenticated, service_role;
