/*
  Operations analytics: an anomaly detector whose scale is sound for count data, and anomaly fields that mean what
  their names say.

  What changed from 20250301000000_ops_analytics (issue 15):
  - The baseline is the same hour of the week in up to 8 previous weeks, stepped back in exact 168-hour steps (the
    old `- make_interval(weeks => k)` was calendar arithmetic in the session TimeZone and landed an hour off across a
    daylight-saving change).
  - The scale of a count is its Poisson standard deviation widened by the tenant's overdispersion pooled across the
    30 recent hours, never the MAD of one hour's six samples (large and floored but uncapped: an hour whose weekly
    samples were [22, 25, 11, 14, 18, 10] scored a full outage at z = -3.41 and missed it).
  - expected, scale and robust_z are on the metric's own scale: robust_z = (observed_value - expected) / scale.
    (baseline_mad was on the raw scale while robust_z was on the square-root scale; both are gone.)
  - deviation_pct is measured against the value shown beside it (avg_orders_24h, avg_revenue_24h,
    avg_fulfillment_24h), as the spec's example computes it: 62.5 = (8 - 3) / 8.

  The rules, and why each threshold is where it is, are written out once in app/features/ops/detector.ts, which
  computes exactly the same scores in TypeScript; tests/integration/ops-detector.test.ts checks the two agree hour by
  hour and app/features/ops/detector.test.ts simulates the rates (detection of full outages, false alarms per
  tenant-week, quiet hours). In short, for each of the 30 most recent complete hours with at least 3 baseline weeks:
  - orders: expected = mean of the baseline weeks within 3 units of their median; scale =
    sqrt(phi * max(expected, 1) * (1 + 1/n)); phi = (1.4826 * median Pearson residual)² over the baselines of hours
    whose median is >= 5, clamped to [1, 4] (1 with fewer than 20 residuals);
  - revenue: expected = robust mean of the weekly revenues; scale = sqrt(phi * max(expected orders,
    expected revenue / mean order, 1) * E[order value²] * (1 + 1/n)), mean order and E[order value²] over 28 days;
  - fulfillment rate (points): expected = median baseline rate; scale = max(1.4826 * MAD, 100 * sqrt(0.09 / orders), 2);
  - flags on hours expected to have more than 2 orders: low_order_volume / revenue_drop (last 24 h) when at most 20 %
    of expected with z <= -1.96, or at most 50 % with z <= -4; revenue_spike (last 24 h) when at least 2x expected
    with z >= 6; fulfillment_rate_drop (hours 6-30 h old, >= 5 orders to fulfil, >= 3 baseline weeks with orders)
    when z <= -4. Severity: a drop to <= 20 % critical, else high; a spike >= 3x critical, else high; a fulfillment
    drop of >= 30 points critical, >= 15 high, else medium.
*/

/*
  Every score of the detector for the caller's tenant: one row per recent hour and metric (orders and revenue for each
  hour with >= 3 baseline weeks, the fulfillment rate where the hour has orders to fulfil), with the anomaly it raises
  (null for none). get_active_anomalies is these rows' flagged subset; the rest say why an hour was not flagged.
*/
create or replace function analytics.anomaly_scores(p_now timestamptz default now())
returns table (
  hour_start timestamptz, metric text, observed double precision, expected double precision, scale double precision,
  robust_z double precision, baseline_weeks int, anomaly_type text, severity text)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_end timestamptz := date_trunc('hour', p_now, 'UTC');
  v_first timestamptz;
  v_mean_order double precision;
  v_order_sq double precision;
begin
  select min(c.hour_start) into v_first from analytics_private.hourly_commerce c where c.tenant_id = v_tenant and c.total_orders > 0;
  if v_first is null then
    return;
  end if;
  select sum(c.total_revenue) / nullif(sum(c.total_orders - c.orders_refunded), 0),
         sum(c.revenue_sq) / nullif(sum(c.total_orders - c.orders_refunded), 0)
    into v_mean_order, v_order_sq
  from analytics_private.hourly_commerce c
  where c.tenant_id = v_tenant and c.hour_start >= v_end - interval '672 hours' and c.hour_start < v_end;
  if coalesce(v_order_sq, 0) <= 0 then
    -- no revenue to judge: revenue rows are left out
    v_order_sq := null;
    v_mean_order := null;
  end if;

  return query
  with recent as (
    select v_end - make_interval(hours => g) as h from generate_series(1, 30) g
  ), obs as (
    select r.h, coalesce(c.total_orders, 0)::float8 as o, coalesce(c.total_revenue, 0)::float8 as rev,
           coalesce(c.orders_fulfilled, 0)::float8 as f, coalesce(c.orders_pending, 0)::float8 as p
    from recent r left join analytics_private.hourly_commerce c on c.tenant_id = v_tenant and c.hour_start = r.h
  ), base as (
    select r.h, coalesce(c.total_orders, 0)::float8 as o, coalesce(c.total_revenue, 0)::float8 as rev,
           100.0::float8 * c.orders_fulfilled / nullif(c.orders_fulfilled + c.orders_pending, 0) as rate
    from recent r
    cross join generate_series(1, 8) k
    left join analytics_private.hourly_commerce c on c.tenant_id = v_tenant and c.hour_start = r.h - make_interval(hours => 168 * k)
    where r.h - make_interval(hours => 168 * k) >= v_first
  ), med as (
    select b.h, count(*)::int as n,
           percentile_cont(0.5) within group (order by b.o) as med_o,
           percentile_cont(0.5) within group (order by b.rev) as med_r,
           percentile_cont(0.5) within group (order by b.rate) as e_f,
           count(b.rate)::int as nf
    from base b group by b.h having count(*) >= 3
  ), dispersion as (
    -- deviations from a median of n values understate the spread by about sqrt((n - 1) / n)
    select case when count(*) < 20 then 1::float8
                else least(4, greatest(1, power(1.4826 * percentile_cont(0.5) within group (order by x.r), 2))) end as phi
    from (select abs(b.o - m.med_o) / sqrt(m.med_o) * sqrt(m.n::float8 / (m.n - 1)) as r
          from base b join med m on m.h = b.h where m.med_o >= 5) x
  ), marked as (
    select b.h, b.o, b.rev, b.rate,
           abs(b.o - m.med_o) <= 3 * sqrt(d.phi * greatest(m.med_o, 1)) as in_o,
           abs(b.rev - m.med_r) <= 3 * sqrt(d.phi * greatest(m.med_o, m.med_r / v_mean_order, 1) * v_order_sq) as in_r
    from base b join med m on m.h = b.h cross join dispersion d
  ), est as (
    select m.h, m.n, m.med_o, m.med_r, m.e_f, m.nf,
           coalesce(avg(x.o) filter (where x.in_o), m.med_o) as e_o,
           coalesce(nullif(count(*) filter (where x.in_o), 0), m.n)::int as n_o,
           coalesce(avg(x.rev) filter (where x.in_r), m.med_r) as e_r,
           coalesce(nullif(count(*) filter (where x.in_r), 0), m.n)::int as n_r,
           percentile_cont(0.5) within group (order by abs(x.rate - m.e_f)) as mad_f
    from med m join marked x on x.h = m.h
    group by m.h, m.n, m.med_o, m.med_r, m.e_f, m.nf
  ), scored as (
    select o.h, o.o, o.rev, o.f + o.p as to_fulfil, 100.0 * o.f / nullif(o.f + o.p, 0) as rate, e.nf,
           e.e_o, e.n_o, sqrt(d.phi * greatest(e.e_o, 1) * (1 + 1.0 / e.n_o)) as s_o,
           e.e_r, e.n_r, sqrt(d.phi * greatest(e.e_o, e.e_r / v_mean_order, 1) * v_order_sq * (1 + 1.0 / e.n_r)) as s_r,
           e.e_f, greatest(1.4826 * e.mad_f, 100 * sqrt(0.09 / greatest(o.f + o.p, 1)), 2) as s_f,
           o.h >= v_end - interval '24 hours' and e.e_o > 2 as judged
    from obs o join est e on e.h = o.h cross join dispersion d
  ), z as (
    select s.*, (s.o - s.e_o) / s.s_o as z_o, (s.rev - s.e_r) / s.s_r as z_r, (s.rate - s.e_f) / s.s_f as z_f from scored s
  ), flagged as (
    select z.*,
           z.judged and ((z.z_o <= -1.96 and z.o <= 0.2 * z.e_o) or (z.z_o <= -4 and z.o <= 0.5 * z.e_o)) as low_volume,
           z.judged and ((z.z_r <= -1.96 and z.rev <= 0.2 * z.e_r) or (z.z_r <= -4 and z.rev <= 0.5 * z.e_r)) as revenue_drop,
           z.judged and z.z_r >= 6 and z.rev >= 2 * z.e_r as revenue_spike,
           z.h < v_end - interval '6 hours' and z.to_fulfil >= 5 and z.nf >= 3 and z.z_f <= -4 as fulfillment_drop
    from z
  )
  select fl.h, 'orders', fl.o, fl.e_o, fl.s_o, fl.z_o, fl.n_o,
         case when fl.low_volume then 'low_order_volume' end,
         case when fl.low_volume then case when fl.o <= 0.2 * fl.e_o then 'critical' else 'high' end end
  from flagged fl
  union all
  select fl.h, 'revenue', fl.rev, fl.e_r, fl.s_r, fl.z_r, fl.n_r,
         case when fl.revenue_drop then 'revenue_drop' when fl.revenue_spike then 'revenue_spike' end,
         case when fl.revenue_drop then case when fl.rev <= 0.2 * fl.e_r then 'critical' else 'high' end
              when fl.revenue_spike then case when fl.rev >= 3 * fl.e_r then 'critical' else 'high' end end
  from flagged fl where v_order_sq is not null
  union all
  select fl.h, 'fulfillment_rate_pct', fl.rate, fl.e_f, fl.s_f, fl.z_f, fl.nf,
         case when fl.fulfillment_drop then 'fulfillment_rate_drop' end,
         case when fl.fulfillment_drop then case when fl.e_f - fl.rate >= 30 then 'critical' when fl.e_f - fl.rate >= 15 then 'high' else 'medium' end end
  from flagged fl where fl.to_fulfil > 0 and fl.nf > 0;
end
$$;

/*
  Active anomalies (spec: GET /dashboard/anomalies): the flagged scores of anomaly_scores, most severe first, then the
  strongest |z|, then the newest. Per alert:
  - the spec's fields: total_orders, total_revenue and fulfillment_rate_pct of the hour, and for context the plain
    averages of the last 24 complete hours avg_orders_24h (orders per hour), avg_revenue_24h and avg_fulfillment_24h
    (100 * fulfilled / (fulfilled + pending) over those hours);
  - deviation_pct: how far the hour is from the 24 h average shown beside it, in percent of that average, positive in
    the direction the anomaly type names (below it for drops, above it for a spike), from the values as shown; null
    when that average is 0. It is context, not the detector's test (the 24 h average mixes night and day);
  - the detector's own comparison: metric, observed_value, expected (the seasonal expectation for this hour of the
    week), scale and robust_z = (observed_value - expected) / scale, all in the metric's units, and baseline_weeks.
*/
drop function analytics.get_active_anomalies(timestamptz);
create function analytics.get_active_anomalies(p_now timestamptz default now())
returns table (
  hour_start timestamptz, anomaly_type text, deviation_pct numeric, severity text, total_orders int,
  avg_orders_24h numeric, total_revenue numeric, avg_revenue_24h numeric, fulfillment_rate_pct numeric,
  avg_fulfillment_24h numeric, metric text, observed_value numeric, expected numeric, scale numeric, robust_z numeric,
  baseline_weeks int)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_end timestamptz := date_trunc('hour', p_now, 'UTC');
  v_avg_orders numeric;
  v_avg_revenue numeric;
  v_avg_fulfillment numeric;
begin
  select round(coalesce(sum(c.total_orders), 0) / 24.0, 1), round(coalesce(sum(c.total_revenue), 0) / 24.0, 2),
         round(100.0 * sum(c.orders_fulfilled) / nullif(sum(c.orders_fulfilled + c.orders_pending), 0), 1)
    into v_avg_orders, v_avg_revenue, v_avg_fulfillment
  from analytics_private.hourly_commerce c
  where c.tenant_id = v_tenant and c.hour_start >= v_end - interval '24 hours' and c.hour_start < v_end;

  return query
  with a as (
    select s.*, coalesce(c.total_orders, 0) as o, round(coalesce(c.total_revenue, 0), 2) as rev,
           round(100.0 * c.orders_fulfilled / nullif(c.orders_fulfilled + c.orders_pending, 0), 1) as rate
    from analytics.anomaly_scores(p_now) s
    left join analytics_private.hourly_commerce c on c.tenant_id = v_tenant and c.hour_start = s.hour_start
    where s.anomaly_type is not null
  )
  select a.hour_start, a.anomaly_type,
         round(100 * case a.anomaly_type
           when 'low_order_volume' then (v_avg_orders - a.o) / nullif(v_avg_orders, 0)
           when 'revenue_drop' then (v_avg_revenue - a.rev) / nullif(v_avg_revenue, 0)
           when 'revenue_spike' then (a.rev - v_avg_revenue) / nullif(v_avg_revenue, 0)
           else (v_avg_fulfillment - a.rate) / nullif(v_avg_fulfillment, 0) end, 1),
         a.severity, a.o, v_avg_orders, a.rev, v_avg_revenue, a.rate, v_avg_fulfillment, a.metric,
         round(a.observed::numeric, 2), round(a.expected::numeric, 2), round(a.scale::numeric, 3),
         round(a.robust_z::numeric, 2), a.baseline_weeks
  from a
  order by array_position(array['critical', 'high', 'medium'], a.severity), abs(a.robust_z) desc, a.hour_start desc;
end
$$;

revoke execute on function analytics.anomaly_scores(timestamptz), analytics.get_active_anomalies(timestamptz) from public;
grant execute on function analytics.anomaly_scores(timestamptz), analytics.get_active_anomalies(timestamptz) to authenticated, service_role;
