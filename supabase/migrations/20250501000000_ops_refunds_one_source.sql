/*
  Operations analytics: what a refund means for each metric, and one source for every summary answer.

  What an order's status means for the numbers (the API reference says the same, field by field):
  - cancelled: not an order. It counts nowhere (as before).
  - refunded: the order was placed and then paid back in full. It counts as an order placed (orders_*, total_orders,
    the volume the anomaly detector watches: an order refunded a week later does not rewrite last week's demand) and
    makes its customer active (and new, if it was their first). It brings no revenue (revenue is net of refunds), so
    it is out of the average order value, and it needs no fulfilment, so it is out of fulfilled, pending and the
    fulfilment rate. orders_refunded reports how many: orders = fulfilled + pending + refunded.
  - pending (payment not yet captured) and paid: orders, revenue, and fulfilled or pending by their fulfilment status.

  One source: every figure of the dashboard summary and the agent summary now comes from the materialized views, so
  an answer is consistent as of its `last_updated` (the snapshot the refresh read) — before, active customers were
  counted on live orders while new customers came from the views, so a new customer's first order counted as
  "returning" until the next refresh. hourly_customer_ids holds each hour's customers, which is what a distinct count
  over a 24 h window needs.
*/

/*
  The customers who ordered in each UTC hour (cancelled orders excluded, refunded included), as a sorted array per
  tenant and hour: what a distinct count over a window of hours needs (active_customers_24h). One row per hour keeps
  the CONCURRENTLY refresh cheap: a view with a row per customer and hour took longer to refresh than every other
  view together at 1M orders (the refresh compares the old and new rows one by one).
*/
create materialized view analytics_private.hourly_customer_ids as
select tenant_id, date_trunc('hour', created_at, 'UTC') as hour_start, array_agg(distinct customer_id order by customer_id) as customer_ids
from public.orders
where status <> 'cancelled' and customer_id is not null
group by 1, 2;
create unique index hourly_customer_ids_key on analytics_private.hourly_customer_ids (tenant_id, hour_start);

/*
  Hourly commerce rollup per tenant and UTC hour (replaces the first version: refunds as above). Per hour:
  - total_orders: orders created in the hour (not cancelled; refunded included); orders_refunded: of those, refunded;
  - total_revenue: the sum of the totals of the orders not refunded (net revenue); revenue_sq: the sum of their
    squares (the anomaly detector's basket variance);
  - orders_fulfilled / orders_pending: orders not refunded that are fully fulfilled / not (fully) fulfilled yet, as of
    the refresh;
  - active_customers: distinct customers with an order in the hour (hourly_customer_ids); new_customers: customers
    whose first-ever order is in the hour (so summed over hours it counts each new customer once);
    returning_customers = active - new;
  - total_sessions: storefront sessions started in the hour.
  Hours with neither orders nor sessions have no row: readers treat them as zeros. Each customer's first order is
  found here instead of in a view of its own (customer_first_orders, dropped): with a row per customer, comparing its
  old and new rows was most of what its refresh cost. Measured at 1M orders, this and hourly_customer_ids refresh in
  a little less time than customer_first_orders and the first hourly_commerce did.
*/
drop materialized view analytics_private.hourly_commerce;
drop materialized view analytics_private.customer_first_orders;
create materialized view analytics_private.hourly_commerce as
with o as (
  select o.tenant_id, date_trunc('hour', o.created_at, 'UTC') as hour_start, o.created_at, o.customer_id, o.status,
         o.fulfillment_status, o.total_price
  from public.orders o
  where o.status <> 'cancelled'
), by_hour as (
  select tenant_id, hour_start,
         count(*)::int as total_orders,
         count(*) filter (where status = 'refunded')::int as orders_refunded,
         coalesce(sum(total_price) filter (where status <> 'refunded'), 0)::numeric(14, 2) as total_revenue,
         coalesce(sum(total_price * total_price) filter (where status <> 'refunded'), 0)::numeric as revenue_sq,
         count(*) filter (where status <> 'refunded' and fulfillment_status = 'fulfilled')::int as orders_fulfilled,
         count(*) filter (where status <> 'refunded' and fulfillment_status <> 'fulfilled')::int as orders_pending
  from o
  group by 1, 2
), new_by_hour as (
  select f.tenant_id, f.hour_start, count(*)::int as new_customers
  from (select tenant_id, date_trunc('hour', min(created_at), 'UTC') as hour_start from o where customer_id is not null group by tenant_id, customer_id) f
  group by 1, 2
), sessions as (
  select tenant_id, date_trunc('hour', started_at, 'UTC') as hour_start, count(*)::int as total_sessions
  from public.storefront_sessions group by 1, 2
)
select coalesce(b.tenant_id, s.tenant_id) as tenant_id,
       coalesce(b.hour_start, s.hour_start) as hour_start,
       coalesce(b.total_orders, 0) as total_orders,
       coalesce(b.orders_refunded, 0) as orders_refunded,
       coalesce(b.total_revenue, 0)::numeric(14, 2) as total_revenue,
       coalesce(b.revenue_sq, 0) as revenue_sq,
       coalesce(b.orders_fulfilled, 0) as orders_fulfilled,
       coalesce(b.orders_pending, 0) as orders_pending,
       coalesce(cardinality(c.customer_ids), 0) as active_customers,
       coalesce(n.new_customers, 0) as new_customers,
       coalesce(cardinality(c.customer_ids), 0) - coalesce(n.new_customers, 0) as returning_customers,
       coalesce(s.total_sessions, 0) as total_sessions
from by_hour b
left join analytics_private.hourly_customer_ids c on c.tenant_id = b.tenant_id and c.hour_start = b.hour_start
left join new_by_hour n on n.tenant_id = b.tenant_id and n.hour_start = b.hour_start
full join sessions s on s.tenant_id = b.tenant_id and s.hour_start = b.hour_start;
create unique index hourly_commerce_key on analytics_private.hourly_commerce (tenant_id, hour_start);

revoke all on analytics_private.hourly_customer_ids, analytics_private.hourly_commerce from public, anon, authenticated;

/*
  Refreshes every view. Run it in a REPEATABLE READ transaction (refreshOpsViews does) so that all the views are
  computed from one snapshot; refreshed_at is that transaction's start, the moment the data is "as of".
*/
create or replace function analytics.refresh_views() returns timestamptz
language plpgsql security definer set search_path = ''
as $$
begin
  -- Order matters: hourly_commerce reads hourly_customer_ids.
  refresh materialized view concurrently analytics_private.hourly_customer_ids;
  refresh materialized view concurrently analytics_private.hourly_commerce;
  refresh materialized view concurrently analytics_private.approval_queue_metrics;
  refresh materialized view concurrently analytics_private.agent_accuracy_metrics;
  refresh materialized view concurrently analytics_private.training_quality_metrics;
  refresh materialized view concurrently analytics_private.agent_performance_summary;
  update analytics_private.refresh_log set refreshed_at = now() where view_name = 'all';
  return now();
end
$$;

/*
  Dashboard summary (spec: GET /dashboard/summary), over complete hours ending at trunc(p_now), every figure from the
  views (as of last_updated):
  - orders_last_hour / revenue_last_hour: the last complete hour; *_24h: the last 24 complete hours; *_prev_24h: the 24
    before. Orders are orders placed (refunded included); revenue is net of refunds.
  - orders_refunded_24h: orders of the 24 h refunded since.
  - avg_order_value_24h = revenue_24h / (orders_24h - orders_refunded_24h): the average of the orders that kept their
    revenue (null when none); avg_order_value_prev_24h the same over the previous 24 h.
  - fulfillment_rate_24h = 100 * fulfilled / (fulfilled + pending) over the 24 h orders that need fulfilling (refunded
    ones do not; a pending order counts in the denominator: not yet fulfilled is not fulfilled);
    orders_pending_24h = those not (fully) fulfilled yet.
  - active_customers_24h: distinct customers with an order in the 24 h (not the sum of hourly distinct counts: from
    hourly_customer_ids); new_customers_24h: of those, whose first-ever order falls inside the 24 h (the sum of the
    hours' new_customers); returning_customers_24h = active - new.
*/
create or replace function analytics.get_dashboard_summary(p_now timestamptz default now())
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_end timestamptz := date_trunc('hour', p_now, 'UTC');
  v_start timestamptz := v_end - interval '24 hours';
  r record;
  v_active int;
begin
  select
    coalesce(sum(h.total_orders) filter (where h.hour_start = v_end - interval '1 hour'), 0)::int as orders_last_hour,
    coalesce(sum(h.total_revenue) filter (where h.hour_start = v_end - interval '1 hour'), 0) as revenue_last_hour,
    coalesce(sum(h.total_orders) filter (where h.hour_start >= v_start), 0)::int as orders_24h,
    coalesce(sum(h.orders_refunded) filter (where h.hour_start >= v_start), 0)::int as refunded_24h,
    coalesce(sum(h.total_revenue) filter (where h.hour_start >= v_start), 0) as revenue_24h,
    coalesce(sum(h.orders_fulfilled) filter (where h.hour_start >= v_start), 0)::int as fulfilled_24h,
    coalesce(sum(h.orders_pending) filter (where h.hour_start >= v_start), 0)::int as pending_24h,
    coalesce(sum(h.new_customers) filter (where h.hour_start >= v_start), 0)::int as new_24h,
    coalesce(sum(h.total_orders) filter (where h.hour_start < v_start), 0)::int as orders_prev,
    coalesce(sum(h.orders_refunded) filter (where h.hour_start < v_start), 0)::int as refunded_prev,
    coalesce(sum(h.total_revenue) filter (where h.hour_start < v_start), 0) as revenue_prev
  into r
  from analytics_private.hourly_commerce h
  where h.tenant_id = v_tenant and h.hour_start >= v_start - interval '24 hours' and h.hour_start < v_end;

  select count(distinct c)::int into v_active
  from analytics_private.hourly_customer_ids hc cross join unnest(hc.customer_ids) c
  where hc.tenant_id = v_tenant and hc.hour_start >= v_start and hc.hour_start < v_end;

  return jsonb_build_object(
    'orders_last_hour', r.orders_last_hour,
    'revenue_last_hour', round(r.revenue_last_hour, 2),
    'orders_last_24h', r.orders_24h,
    'revenue_last_24h', round(r.revenue_24h, 2),
    'avg_order_value_24h', round(r.revenue_24h / nullif(r.orders_24h - r.refunded_24h, 0), 2),
    'orders_prev_24h', r.orders_prev,
    'revenue_prev_24h', round(r.revenue_prev, 2),
    'avg_order_value_prev_24h', round(r.revenue_prev / nullif(r.orders_prev - r.refunded_prev, 0), 2),
    'fulfillment_rate_24h', round(100.0 * r.fulfilled_24h / nullif(r.fulfilled_24h + r.pending_24h, 0), 1),
    'orders_pending_24h', r.pending_24h,
    'orders_refunded_24h', r.refunded_24h,
    'new_customers_24h', r.new_24h,
    'active_customers_24h', v_active,
    'returning_customers_24h', v_active - r.new_24h,
    -- instants as UTC ISO strings: jsonb would render them in the session TimeZone
    'window_start', to_char(v_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'window_end', to_char(v_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'last_updated', to_char((select analytics.last_refreshed_at()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  );
end
$$;

/*
  Hourly trends (spec: GET /dashboard/trends): one row per complete hour, the last p_hours (clamped to 1..168) ending at
  trunc(p_now), newest first, hours without orders included as zeros. Refunds as at the top of this file:
  - total_orders: orders placed; total_revenue: net of refunds; orders_refunded: refunded orders of the hour;
  - avg_order_value = revenue / (orders - refunded); fulfillment_rate_pct = 100 * fulfilled / (fulfilled + pending)
    (null when there is nothing to divide by);
  - *_hoh_pct_change = 100 * (this hour - previous hour) / previous hour; null when the previous hour is zero.
*/
drop function analytics.get_hourly_trends(int, timestamptz);
create function analytics.get_hourly_trends(hours_back int default 24, p_now timestamptz default now())
returns table (
  hour_start timestamptz, total_orders int, total_revenue numeric, avg_order_value numeric, fulfillment_rate_pct numeric,
  orders_fulfilled int, orders_pending int, new_customers int, active_customers int, returning_customers int,
  total_sessions int, orders_hoh_pct_change numeric, revenue_hoh_pct_change numeric, orders_refunded int)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_hours int := least(greatest(coalesce(hours_back, 24), 1), 168);
  v_end timestamptz := date_trunc('hour', p_now, 'UTC');
begin
  return query
  with hours as (
    select v_end - make_interval(hours => g) as h from generate_series(1, v_hours + 1) g
  ), filled as (
    select hs.h,
           coalesce(c.total_orders, 0) as o, coalesce(c.orders_refunded, 0) as rf, coalesce(c.total_revenue, 0) as rev,
           coalesce(c.orders_fulfilled, 0) as f, coalesce(c.orders_pending, 0) as p, coalesce(c.new_customers, 0) as nc,
           coalesce(c.active_customers, 0) as ac, coalesce(c.returning_customers, 0) as rc, coalesce(c.total_sessions, 0) as s
    from hours hs
    left join analytics_private.hourly_commerce c on c.tenant_id = v_tenant and c.hour_start = hs.h
  ), with_prev as (
    select filled.*, lag(o) over (order by h) as prev_o, lag(rev) over (order by h) as prev_rev from filled
  )
  select w.h, w.o, round(w.rev, 2), round(w.rev / nullif(w.o - w.rf, 0), 2), round(100.0 * w.f / nullif(w.f + w.p, 0), 1),
         w.f, w.p, w.nc, w.ac, w.rc, w.s,
         round(100.0 * (w.o - w.prev_o) / nullif(w.prev_o, 0), 1),
         round(100.0 * (w.rev - w.prev_rev) / nullif(w.prev_rev, 0), 1),
         w.rf
  from with_prev w
  where w.h >= v_end - make_interval(hours => v_hours)
  order by w.h desc;
end
$$;

/*
  Agent 24 h summary (spec: GET /agent/summary) over the last 24 complete hours, every figure from the views (as of
  summary_updated_at). pending_approvals is the number of queue items pending at the refresh (the operators' to-do
  list, not a 24 h figure); approvals_24h = items approved or edited in the window (by decision time);
  avg_confidence_24h = mean confidence of items drafted in the window; avg_latency_24h = mean latency of queries in the
  window; avg_accuracy_24h = mean accuracy score of examples annotated in the window.
*/
create or replace function analytics.get_agent_summary(p_now timestamptz default now())
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_end timestamptz := date_trunc('hour', p_now, 'UTC');
  r record;
begin
  select coalesce(sum(s.queries), 0)::int as queries, sum(s.latency_sum) as latency_sum,
         coalesce(sum(s.approved_queries), 0)::int as approved_queries, coalesce(sum(s.approvals), 0)::int as approvals,
         sum(s.confidence_sum) as confidence_sum, coalesce(sum(s.confidence_n), 0) as confidence_n,
         coalesce(sum(s.training_examples), 0)::int as examples, coalesce(sum(s.safe_examples), 0)::int as safe,
         sum(s.accuracy_sum) as accuracy_sum, coalesce(sum(s.accuracy_n), 0) as accuracy_n
  into r
  from analytics_private.agent_performance_summary s
  where s.tenant_id = v_tenant and s.hour_start >= v_end - interval '24 hours' and s.hour_start < v_end;

  return jsonb_build_object(
    'time_period', 'last_24h',
    'pending_approvals', (select coalesce(sum(q.pending_count), 0)::int from analytics_private.approval_queue_metrics q where q.tenant_id = v_tenant),
    'approvals_24h', r.approvals,
    'avg_confidence_24h', round(r.confidence_sum / nullif(r.confidence_n, 0), 2),
    'queries_24h', r.queries,
    'avg_latency_24h', round(r.latency_sum / nullif(r.queries, 0), 1),
    'approved_queries_24h', r.approved_queries,
    'training_examples_24h', r.examples,
    'safe_examples_24h', r.safe,
    'avg_accuracy_24h', round(r.accuracy_sum / nullif(r.accuracy_n, 0), 2),
    'window_start', to_char((v_end - interval '24 hours') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'window_end', to_char(v_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'summary_updated_at', to_char((select analytics.last_refreshed_at()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  );
end
$$;

revoke execute on function analytics.get_hourly_trends(int, timestamptz) from public;
grant execute on function analytics.get_hourly_trends(int, timestamptz) to authenticated, service_role;
