/*
  Operations analytics (Hot Dash spec): the shop's commerce data (customers, orders, storefront sessions), the AI
  agent's work (conversations, agent queries, the approval queue of drafted replies, annotated training examples),
  the materialized views in `analytics_private` that roll them up, and the `analytics` functions the API calls.

  Conventions used by every metric below:
  - Time buckets are UTC hours/days (`date_trunc(..., 'UTC')`), so results do not depend on the session TimeZone.
  - Windows are made of complete hours ending at the start of the current hour: "last hour" is
    [trunc(now) - 1 h, trunc(now)), "last 24 h" is [trunc(now) - 24 h, trunc(now)), "previous 24 h" the 24 hours
    before that. Complete hours make comparisons fair (24 full hours against 24 full hours) and stable between refreshes.
  - Every function takes an optional `p_now timestamptz default now()` so tests over generated data are deterministic.
  - A cancelled order is not an order: it counts in no order, revenue, fulfillment or customer figure.
  - A ratio whose denominator is zero is null (never NaN, never an error).
  - Materialized views cannot carry RLS: no API role can read `analytics_private`; the security-definer functions
    read it filtered by `(select app.tenant_id())` after checking the caller's permission.
*/

create schema if not exists analytics;
create schema if not exists analytics_private;
revoke all on schema analytics, analytics_private from public;
grant usage on schema analytics to authenticated, service_role;

-- Including PII in an export is its own permission (admins hold it; an API key must be scoped to it).
insert into app.builtin_permissions (name, description) values
  ('analytics.export_pii', 'Include personal data (unredacted text) in training-data exports')
on conflict (name) do nothing;
insert into app.builtin_roles (name, permission) values ('admin', 'analytics.export_pii') on conflict do nothing;
insert into public.permissions (tenant_id, name, description, is_builtin)
select t.id, 'analytics.export_pii', 'Include personal data (unredacted text) in training-data exports', true
from public.tenants t
on conflict (tenant_id, name) do nothing;
insert into public.role_permissions (tenant_id, role_id, permission_id)
select r.tenant_id, r.id, p.id
from public.roles r join public.permissions p on p.tenant_id = r.tenant_id and p.name = 'analytics.export_pii'
where r.name = 'admin' and r.is_builtin
on conflict do nothing;

-- ================================================================ commerce
create table public.customers (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  external_id text not null check (length(external_id) between 1 and 200),
  email text,
  first_name text,
  last_name text,
  phone text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, external_id)
);
create index customers_tenant_id_idx on public.customers (tenant_id);

create table public.orders (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  external_id text not null check (length(external_id) between 1 and 200),
  customer_id bigint references public.customers (id) on delete set null,
  status text not null default 'paid' check (status in ('pending', 'paid', 'refunded', 'cancelled')),
  fulfillment_status text not null default 'unfulfilled' check (fulfillment_status in ('unfulfilled', 'partial', 'fulfilled')),
  total_price numeric(12, 2) not null check (total_price >= 0),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  fulfilled_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (tenant_id, external_id),
  check (fulfilled_at is null or fulfilled_at >= created_at)
);
create index orders_tenant_id_idx on public.orders (tenant_id);
-- The window scans of the summary (distinct customers in 24 h) read only this index.
create index orders_tenant_created_idx on public.orders (tenant_id, created_at) include (customer_id, status);
-- "Has this customer ordered before?" probes.
create index orders_tenant_customer_created_idx on public.orders (tenant_id, customer_id, created_at) where status <> 'cancelled';
create index orders_customer_id_idx on public.orders (customer_id);

create table public.storefront_sessions (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  external_id text not null check (length(external_id) between 1 and 200),
  customer_id bigint references public.customers (id) on delete set null,
  started_at timestamptz not null default now(),
  landing_page text,
  converted boolean not null default false,
  unique (tenant_id, external_id)
);
create index storefront_sessions_tenant_id_idx on public.storefront_sessions (tenant_id);
create index storefront_sessions_tenant_started_idx on public.storefront_sessions (tenant_id, started_at);
create index storefront_sessions_customer_id_idx on public.storefront_sessions (customer_id);

-- ================================================================ AI agent
create table public.conversations (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  external_id text not null check (length(external_id) between 1 and 200),
  customer_id bigint references public.customers (id) on delete set null,
  channel text not null default 'email' check (channel in ('email', 'chat', 'sms', 'social', 'phone')),
  subject text,
  customer_message text not null,
  created_at timestamptz not null default now(),
  unique (tenant_id, external_id)
);
create index conversations_tenant_id_idx on public.conversations (tenant_id);
create index conversations_customer_id_idx on public.conversations (customer_id);

create table public.agent_queries (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  external_id text not null check (length(external_id) between 1 and 200),
  conversation_id bigint references public.conversations (id) on delete set null,
  agent_type text not null check (agent_type ~ '^[a-z][a-z0-9_]{0,63}$'),
  query_text text,
  response_text text,
  latency_ms integer not null check (latency_ms >= 0),
  approved boolean not null default false,
  human_edited boolean not null default false,
  accuracy_score numeric(3, 2) check (accuracy_score between 1 and 5),
  helpfulness_score numeric(3, 2) check (helpfulness_score between 1 and 5),
  tone_score numeric(3, 2) check (tone_score between 1 and 5),
  safe_to_send boolean,
  created_at timestamptz not null default now(),
  unique (tenant_id, external_id)
);
create index agent_queries_tenant_id_idx on public.agent_queries (tenant_id);
create index agent_queries_tenant_created_idx on public.agent_queries (tenant_id, created_at);
create index agent_queries_conversation_id_idx on public.agent_queries (conversation_id);

create table public.approval_queue_items (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  external_id text not null check (length(external_id) between 1 and 200),
  conversation_id bigint references public.conversations (id) on delete set null,
  agent_query_id bigint references public.agent_queries (id) on delete set null,
  agent_type text not null check (agent_type ~ '^[a-z][a-z0-9_]{0,63}$'),
  draft_reply text not null,
  edited_reply text,
  priority text not null default 'normal' check (priority in ('urgent', 'high', 'normal', 'low')),
  -- the model's confidence in its draft, in percent
  confidence numeric(5, 2) check (confidence between 0 and 100),
  status text not null default 'pending' check (status in ('pending', 'approved', 'rejected', 'edited')),
  reviewer_id uuid references auth.users (id) on delete set null,
  reviewer_name text,
  review_notes text,
  reviewed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, external_id),
  check ((status = 'pending') = (reviewed_at is null)),
  check (status <> 'edited' or edited_reply is not null)
);
create index approval_queue_items_tenant_id_idx on public.approval_queue_items (tenant_id);
create index approval_queue_items_tenant_created_idx on public.approval_queue_items (tenant_id, created_at);
-- The operators' queue: pending first by priority, then oldest.
create index approval_queue_items_pending_idx on public.approval_queue_items (tenant_id, created_at) where status = 'pending';
create index approval_queue_items_tenant_status_idx on public.approval_queue_items (tenant_id, status, created_at);
create index approval_queue_items_conversation_id_idx on public.approval_queue_items (conversation_id);
create index approval_queue_items_agent_query_id_idx on public.approval_queue_items (agent_query_id);
create index approval_queue_items_reviewer_id_idx on public.approval_queue_items (reviewer_id);

create table public.training_examples (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  external_id text not null check (length(external_id) between 1 and 200),
  conversation_id bigint references public.conversations (id) on delete set null,
  queue_item_id bigint references public.approval_queue_items (id) on delete set null,
  input_text text not null,
  model_draft text not null,
  safe_to_send boolean not null,
  category text,
  sentiment text check (sentiment in ('positive', 'neutral', 'negative')),
  tone text,
  accuracy_score numeric(3, 2) check (accuracy_score between 1 and 5),
  helpfulness_score numeric(3, 2) check (helpfulness_score between 1 and 5),
  tone_score numeric(3, 2) check (tone_score between 1 and 5),
  annotator text,
  notes text,
  -- the model's confidence in percent (exported as a 0–1 fraction, as the spec shows)
  model_confidence numeric(5, 2) check (model_confidence between 0 and 100),
  response_time_ms integer check (response_time_ms >= 0),
  created_at timestamptz not null default now(),
  unique (tenant_id, external_id)
);
create index training_examples_tenant_id_idx on public.training_examples (tenant_id);
create index training_examples_tenant_created_idx on public.training_examples (tenant_id, created_at, id);
create index training_examples_conversation_id_idx on public.training_examples (conversation_id);
create index training_examples_queue_item_id_idx on public.training_examples (queue_item_id);

-- ---------------------------------------------------------------- triggers, RLS, grants
create trigger customers_updated_at before update on public.customers for each row execute function app.set_updated_at();
create trigger orders_updated_at before update on public.orders for each row execute function app.set_updated_at();
create trigger approval_queue_items_updated_at before update on public.approval_queue_items for each row execute function app.set_updated_at();

do $$
declare
  t text;
  -- table -> [read permission, write permission]
  perms jsonb := '{
    "customers": ["analytics.read", "ingest.write"],
    "orders": ["analytics.read", "ingest.write"],
    "storefront_sessions": ["analytics.read", "ingest.write"],
    "conversations": ["approvals.read", "ingest.write"],
    "agent_queries": ["analytics.read", "ingest.write"],
    "approval_queue_items": ["approvals.read", "ingest.write"],
    "training_examples": ["analytics.read", "ingest.write"]
  }';
begin
  for t in select jsonb_object_keys(perms) loop
    execute format('create trigger %I before update on public.%I for each row execute function app.protect_tenant_id()', t || '_tenant_fixed', t);
    execute format('alter table public.%I enable row level security', t);
    -- writers read too: an upsert reads the row it conflicts with, and ingest resolves references by external id
    execute format($f$create policy %I on public.%I for select to authenticated
      using (tenant_id = (select app.tenant_id()) and ((select app.has_permission(%L)) or (select app.has_permission(%L))))$f$,
      'Members with ' || (perms -> t ->> 0) || ' can read their tenant''s ' || replace(t, '_', ' '), t, perms -> t ->> 0, perms -> t ->> 1);
    execute format($f$create policy %I on public.%I for insert to authenticated
      with check (tenant_id = (select app.tenant_id()) and (select app.has_permission(%L)))$f$,
      'Members with ' || (perms -> t ->> 1) || ' can add their tenant''s ' || replace(t, '_', ' '), t, perms -> t ->> 1);
    execute format($f$create policy %I on public.%I for update to authenticated
      using (tenant_id = (select app.tenant_id()) and (select app.has_permission(%L)))
      with check (tenant_id = (select app.tenant_id()))$f$,
      'Members with ' || (perms -> t ->> 1) || ' can change their tenant''s ' || replace(t, '_', ' '), t, perms -> t ->> 1);
    execute format($f$create policy %I on public.%I for delete to authenticated
      using (tenant_id = (select app.tenant_id()) and (select app.has_permission(%L)))$f$,
      'Members with ' || (perms -> t ->> 1) || ' can delete their tenant''s ' || replace(t, '_', ' '), t, perms -> t ->> 1);
    execute format('revoke all on public.%I from anon', t);
    execute format('grant select, insert, update, delete on public.%I to authenticated, service_role', t);
  end loop;
end
$$;

-- Reviewers decide queue items: an extra update policy for approvals.decide (policies of one command are OR-ed).
create policy "Reviewers with approvals.decide can decide their tenant's queue items" on public.approval_queue_items
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('approvals.decide')))
  with check (tenant_id = (select app.tenant_id()));
-- A decision updates the agent query it came from (approved / human_edited).
create policy "Reviewers with approvals.decide can mark their tenant's agent queries" on public.agent_queries
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('approvals.decide')))
  with check (tenant_id = (select app.tenant_id()));

-- ================================================================ materialized views
/*
  First order of every customer (cancelled orders excluded). A customer is "new" in a window when this falls in it.
*/
create materialized view analytics_private.customer_first_orders as
select o.tenant_id, o.customer_id, min(o.created_at) as first_order_at
from public.orders o
where o.status <> 'cancelled' and o.customer_id is not null
group by o.tenant_id, o.customer_id;
create unique index customer_first_orders_key on analytics_private.customer_first_orders (tenant_id, customer_id);
create index customer_first_orders_time_idx on analytics_private.customer_first_orders (tenant_id, first_order_at);

/*
  Hourly commerce rollup per tenant and UTC hour. Per hour:
  - total_orders / total_revenue: non-cancelled orders created in the hour and the sum of their totals;
  - orders_fulfilled: of those, fully fulfilled (as of the refresh); orders_pending: the rest (unfulfilled or partial);
  - active_customers: distinct customers with an order in the hour; new_customers: those whose first order is in the
    hour; returning_customers = active - new (they had ordered before the hour);
  - total_sessions: storefront sessions started in the hour.
  Hours with neither orders nor sessions have no row: readers treat them as zeros.
*/
create materialized view analytics_private.hourly_commerce as
with o as (
  select o.tenant_id, date_trunc('hour', o.created_at, 'UTC') as hour_start, o.customer_id, o.total_price,
         o.fulfillment_status = 'fulfilled' as fulfilled,
         f.first_order_at >= date_trunc('hour', o.created_at, 'UTC') as first_in_hour
  from public.orders o
  left join analytics_private.customer_first_orders f on f.tenant_id = o.tenant_id and f.customer_id = o.customer_id
  where o.status <> 'cancelled'
), by_hour as (
  select tenant_id, hour_start,
         count(*)::int as total_orders,
         sum(total_price)::numeric(14, 2) as total_revenue,
         count(*) filter (where fulfilled)::int as orders_fulfilled,
         count(*) filter (where not fulfilled)::int as orders_pending,
         count(distinct customer_id)::int as active_customers,
         count(distinct customer_id) filter (where first_in_hour)::int as new_customers
  from o group by tenant_id, hour_start
), sessions as (
  select tenant_id, date_trunc('hour', started_at, 'UTC') as hour_start, count(*)::int as total_sessions
  from public.storefront_sessions group by 1, 2
)
select coalesce(b.tenant_id, s.tenant_id) as tenant_id,
       coalesce(b.hour_start, s.hour_start) as hour_start,
       coalesce(b.total_orders, 0) as total_orders,
       coalesce(b.total_revenue, 0)::numeric(14, 2) as total_revenue,
       coalesce(b.orders_fulfilled, 0) as orders_fulfilled,
       coalesce(b.orders_pending, 0) as orders_pending,
       coalesce(b.active_customers, 0) as active_customers,
       coalesce(b.new_customers, 0) as new_customers,
       coalesce(b.active_customers - b.new_customers, 0) as returning_customers,
       coalesce(s.total_sessions, 0) as total_sessions
from by_hour b
full join sessions s on s.tenant_id = b.tenant_id and s.hour_start = b.hour_start;
create unique index hourly_commerce_key on analytics_private.hourly_commerce (tenant_id, hour_start);

/*
  Approval queue per tenant and UTC hour of creation, in additive parts (sums and counts) so that a day is exactly the
  sum of its hours. Resolution time = reviewed_at - created_at of decided items.
*/
create materialized view analytics_private.approval_queue_metrics as
select tenant_id, date_trunc('hour', created_at, 'UTC') as hour_start,
       count(*)::int as total_items,
       count(*) filter (where status = 'pending')::int as pending_count,
       count(*) filter (where status = 'approved')::int as approved_count,
       count(*) filter (where status = 'rejected')::int as rejected_count,
       count(*) filter (where status = 'edited')::int as edited_count,
       count(*) filter (where priority = 'urgent')::int as urgent_count,
       count(*) filter (where priority = 'high')::int as high_count,
       count(*) filter (where priority = 'normal')::int as normal_count,
       count(*) filter (where priority = 'low')::int as low_count,
       coalesce(sum(confidence), 0)::numeric as confidence_sum,
       count(confidence)::int as confidence_n,
       min(confidence) as min_confidence,
       max(confidence) as max_confidence,
       coalesce(sum(extract(epoch from reviewed_at - created_at) / 60.0), 0)::numeric as resolution_minutes_sum,
       count(reviewed_at)::int as resolved_n
from public.approval_queue_items
group by tenant_id, date_trunc('hour', created_at, 'UTC');
create unique index approval_queue_metrics_key on analytics_private.approval_queue_metrics (tenant_id, hour_start);

/*
  Agent query accuracy per tenant, agent type and UTC day. Rates are shares of the day's queries (null when none);
  score averages ignore unscored queries.
*/
create materialized view analytics_private.agent_accuracy_metrics as
select tenant_id, agent_type, (created_at at time zone 'UTC')::date as day_bucket,
       count(*)::int as total_queries,
       count(*) filter (where approved)::int as approved_queries,
       count(*) filter (where human_edited)::int as human_edited_queries,
       round(100.0 * count(*) filter (where approved) / nullif(count(*), 0), 2) as approval_rate_pct,
       round(100.0 * count(*) filter (where human_edited) / nullif(count(*), 0), 2) as edit_rate_pct,
       round(avg(latency_ms), 1) as avg_latency_ms,
       max(latency_ms) as max_latency_ms,
       round(avg(accuracy_score), 2) as avg_accuracy_score,
       round(avg(helpfulness_score), 2) as avg_helpfulness_score,
       round(avg(tone_score), 2) as avg_tone_score,
       count(*) filter (where safe_to_send)::int as safe_to_send_count
from public.agent_queries
group by tenant_id, agent_type, (created_at at time zone 'UTC')::date;
create unique index agent_accuracy_metrics_key on analytics_private.agent_accuracy_metrics (tenant_id, day_bucket, agent_type);

/*
  Training-data quality per tenant and UTC day.
  - overall score of an example = mean of its available accuracy/helpfulness/tone scores;
    overall_quality_score = mean of the day's per-example overall scores;
  - high quality = overall score >= 4.0; high_quality_rate_pct = share of scored examples that are high quality;
  - safety_rate_pct = safe examples / all examples.
*/
create materialized view analytics_private.training_quality_metrics as
with e as (
  select t.*, (created_at at time zone 'UTC')::date as day_bucket,
         (coalesce(accuracy_score, 0) + coalesce(helpfulness_score, 0) + coalesce(tone_score, 0))
           / nullif((accuracy_score is not null)::int + (helpfulness_score is not null)::int + (tone_score is not null)::int, 0) as overall
  from public.training_examples t
)
select tenant_id, day_bucket,
       count(*)::int as total_training_examples,
       count(*) filter (where safe_to_send)::int as safe_examples,
       count(*) filter (where not safe_to_send)::int as unsafe_examples,
       round(100.0 * count(*) filter (where safe_to_send) / nullif(count(*), 0), 2) as safety_rate_pct,
       round(avg(accuracy_score), 2) as avg_accuracy,
       round(avg(helpfulness_score), 2) as avg_helpfulness,
       round(avg(tone_score), 2) as avg_tone,
       round(avg(overall), 2) as overall_quality_score,
       round(100.0 * count(*) filter (where overall >= 4.0) / nullif(count(overall), 0), 2) as high_quality_rate_pct,
       count(distinct annotator)::int as unique_annotators,
       count(distinct category)::int as unique_categories,
       count(*) filter (where sentiment = 'positive')::int as positive_sentiment,
       count(*) filter (where sentiment = 'neutral')::int as neutral_sentiment,
       count(*) filter (where sentiment = 'negative')::int as negative_sentiment,
       round(avg(model_confidence), 2) as avg_model_confidence,
       round(avg(response_time_ms), 1) as avg_response_time_ms
from e
group by tenant_id, day_bucket;
create unique index training_quality_metrics_key on analytics_private.training_quality_metrics (tenant_id, day_bucket);

/*
  Agent activity per tenant and UTC hour, in additive parts, for the 24 h summary: queries (count, latency sum,
  approved), queue items created (confidence sum/count), decisions by the hour they were made (approved or edited
  counts as an approval), training examples (count, safe, accuracy sum/count).
*/
create materialized view analytics_private.agent_performance_summary as
with parts as (
  select tenant_id, date_trunc('hour', created_at, 'UTC') as hour_start,
         count(*) as queries, sum(latency_ms)::numeric as latency_sum, count(*) filter (where approved) as approved_queries,
         0::bigint as items, 0::numeric as confidence_sum, 0::bigint as confidence_n, 0::bigint as approvals,
         0::bigint as examples, 0::bigint as safe_examples, 0::numeric as accuracy_sum, 0::bigint as accuracy_n
  from public.agent_queries group by 1, 2
  union all
  select tenant_id, date_trunc('hour', created_at, 'UTC'), 0, 0, 0, count(*), coalesce(sum(confidence), 0), count(confidence), 0, 0, 0, 0, 0
  from public.approval_queue_items group by 1, 2
  union all
  select tenant_id, date_trunc('hour', reviewed_at, 'UTC'), 0, 0, 0, 0, 0, 0, count(*), 0, 0, 0, 0
  from public.approval_queue_items where status in ('approved', 'edited') group by 1, 2
  union all
  select tenant_id, date_trunc('hour', created_at, 'UTC'), 0, 0, 0, 0, 0, 0, 0,
         count(*), count(*) filter (where safe_to_send), coalesce(sum(accuracy_score), 0), count(accuracy_score)
  from public.training_examples group by 1, 2
)
select tenant_id, hour_start,
       sum(queries)::int as queries, sum(latency_sum) as latency_sum, sum(approved_queries)::int as approved_queries,
       sum(items)::int as queue_items, sum(confidence_sum) as confidence_sum, sum(confidence_n)::int as confidence_n,
       sum(approvals)::int as approvals,
       sum(examples)::int as training_examples, sum(safe_examples)::int as safe_examples,
       sum(accuracy_sum) as accuracy_sum, sum(accuracy_n)::int as accuracy_n
from parts
group by tenant_id, hour_start;
create unique index agent_performance_summary_key on analytics_private.agent_performance_summary (tenant_id, hour_start);

-- When each view was last refreshed (the "last_updated" the API reports).
create table analytics_private.refresh_log (
  view_name text primary key,
  refreshed_at timestamptz not null
);
insert into analytics_private.refresh_log (view_name, refreshed_at) values ('all', now());

revoke all on all tables in schema analytics_private from public, anon, authenticated;

-- ================================================================ functions
-- The caller's tenant, after checking they hold the permission. Raises 42501 otherwise.
create or replace function analytics.require_tenant(p_permission text) returns uuid
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := (select app.tenant_id());
begin
  if v_tenant is null then
    raise exception 'no tenant in the caller''s token' using errcode = '42501';
  end if;
  if not (select app.has_permission(p_permission)) then
    raise exception 'permission % required', p_permission using errcode = '42501';
  end if;
  return v_tenant;
end
$$;

create or replace function analytics.refresh_views() returns timestamptz
language plpgsql security definer set search_path = ''
as $$
begin
  -- Order matters: hourly_commerce reads customer_first_orders.
  refresh materialized view concurrently analytics_private.customer_first_orders;
  refresh materialized view concurrently analytics_private.hourly_commerce;
  refresh materialized view concurrently analytics_private.approval_queue_metrics;
  refresh materialized view concurrently analytics_private.agent_accuracy_metrics;
  refresh materialized view concurrently analytics_private.training_quality_metrics;
  refresh materialized view concurrently analytics_private.agent_performance_summary;
  update analytics_private.refresh_log set refreshed_at = clock_timestamp() where view_name = 'all';
  return clock_timestamp();
end
$$;

create or replace function analytics.last_refreshed_at() returns timestamptz
language sql stable security definer set search_path = ''
as $$ select refreshed_at from analytics_private.refresh_log where view_name = 'all' $$;

/*
  Dashboard summary (spec: GET /dashboard/summary), over complete hours ending at trunc(p_now):
  - orders/revenue_last_hour: the last complete hour; *_24h: the last 24 complete hours; *_prev_24h: the 24 before.
  - avg_order_value_24h = revenue_24h / orders_24h (null when no orders).
  - fulfillment_rate_24h = 100 * fulfilled / orders of the 24 h (pending orders count in the denominator: an order not
    yet fulfilled is not a fulfilled one); orders_pending_24h = orders of the 24 h not (fully) fulfilled yet.
  - active_customers_24h: distinct customers with an order in the 24 h (not the sum of hourly distinct counts);
    new_customers_24h: active customers whose first-ever order falls inside the 24 h;
    returning_customers_24h = active - new (they had ordered before the window).
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
  v_new int;
begin
  select
    coalesce(sum(h.total_orders) filter (where h.hour_start = v_end - interval '1 hour'), 0)::int as orders_last_hour,
    coalesce(sum(h.total_revenue) filter (where h.hour_start = v_end - interval '1 hour'), 0) as revenue_last_hour,
    coalesce(sum(h.total_orders) filter (where h.hour_start >= v_start), 0)::int as orders_24h,
    coalesce(sum(h.total_revenue) filter (where h.hour_start >= v_start), 0) as revenue_24h,
    coalesce(sum(h.orders_fulfilled) filter (where h.hour_start >= v_start), 0)::int as fulfilled_24h,
    coalesce(sum(h.orders_pending) filter (where h.hour_start >= v_start), 0)::int as pending_24h,
    coalesce(sum(h.total_orders) filter (where h.hour_start < v_start), 0)::int as orders_prev,
    coalesce(sum(h.total_revenue) filter (where h.hour_start < v_start), 0) as revenue_prev
  into r
  from analytics_private.hourly_commerce h
  where h.tenant_id = v_tenant and h.hour_start >= v_start - interval '24 hours' and h.hour_start < v_end;

  select count(distinct o.customer_id)::int into v_active
  from public.orders o
  where o.tenant_id = v_tenant and o.created_at >= v_start and o.created_at < v_end
    and o.status <> 'cancelled' and o.customer_id is not null;

  select count(*)::int into v_new
  from analytics_private.customer_first_orders f
  where f.tenant_id = v_tenant and f.first_order_at >= v_start and f.first_order_at < v_end;
  v_new := least(v_new, v_active); -- guards the minutes between an order and the next refresh

  return jsonb_build_object(
    'orders_last_hour', r.orders_last_hour,
    'revenue_last_hour', round(r.revenue_last_hour, 2),
    'orders_last_24h', r.orders_24h,
    'revenue_last_24h', round(r.revenue_24h, 2),
    'avg_order_value_24h', round(r.revenue_24h / nullif(r.orders_24h, 0), 2),
    'orders_prev_24h', r.orders_prev,
    'revenue_prev_24h', round(r.revenue_prev, 2),
    'fulfillment_rate_24h', round(100.0 * r.fulfilled_24h / nullif(r.orders_24h, 0), 1),
    'orders_pending_24h', r.pending_24h,
    'new_customers_24h', v_new,
    'active_customers_24h', v_active,
    'returning_customers_24h', v_active - v_new,
    'window_start', v_start,
    'window_end', v_end,
    'last_updated', (select analytics.last_refreshed_at())
  );
end
$$;

/*
  Hourly trends (spec: GET /dashboard/trends): one row per complete hour, the last p_hours (clamped to 1..168) ending at
  trunc(p_now), newest first, hours without orders included as zeros.
  - avg_order_value = revenue / orders, fulfillment_rate_pct = 100 * fulfilled / orders (null when no orders);
  - *_hoh_pct_change = 100 * (this hour - previous hour) / previous hour; null when the previous hour is zero.
*/
create or replace function analytics.get_hourly_trends(hours_back int default 24, p_now timestamptz default now())
returns table (
  hour_start timestamptz, total_orders int, total_revenue numeric, avg_order_value numeric, fulfillment_rate_pct numeric,
  orders_fulfilled int, orders_pending int, new_customers int, active_customers int, returning_customers int,
  total_sessions int, orders_hoh_pct_change numeric, revenue_hoh_pct_change numeric)
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
           coalesce(c.total_orders, 0) as o, coalesce(c.total_revenue, 0) as rev, coalesce(c.orders_fulfilled, 0) as f,
           coalesce(c.orders_pending, 0) as p, coalesce(c.new_customers, 0) as nc, coalesce(c.active_customers, 0) as ac,
           coalesce(c.returning_customers, 0) as rc, coalesce(c.total_sessions, 0) as s
    from hours hs
    left join analytics_private.hourly_commerce c on c.tenant_id = v_tenant and c.hour_start = hs.h
  ), with_prev as (
    select filled.*, lag(o) over (order by h) as prev_o, lag(rev) over (order by h) as prev_rev from filled
  )
  select w.h, w.o, round(w.rev, 2), round(w.rev / nullif(w.o, 0), 2), round(100.0 * w.f / nullif(w.o, 0), 1),
         w.f, w.p, w.nc, w.ac, w.rc, w.s,
         round(100.0 * (w.o - w.prev_o) / nullif(w.prev_o, 0), 1),
         round(100.0 * (w.rev - w.prev_rev) / nullif(w.prev_rev, 0), 1)
  from with_prev w
  where w.h >= v_end - make_interval(hours => v_hours)
  order by w.h desc;
end
$$;

/*
  Active anomalies (spec: GET /dashboard/anomalies), sorted by severity then time.

  Each recent hour is compared with its seasonal baseline: the same hour of the week in the previous 6 weeks (only
  weeks after the tenant's first order; at least 3 needed), summarised by the median and the MAD, and flagged by a
  robust z-score z = (x - median) / (1.4826 * MAD) when |z| >= 4. (Iglewicz–Hoaglin suggest 3.5 for one test; a tenant
  gets ~70 tests a day here, and on 60 days of generated seasonal data 3.5 gave ~0.1 % false alarms, 4 almost none.)
  - Counts are compared on the Anscombe scale 2 * sqrt(x + 3/8), where Poisson noise has unit variance whatever the
    level, so a quiet night hour (0 orders where 1 is usual) is not an anomaly while a busy hour dropping from 18 to 2
    is. Revenue uses the same transform in units of the tenant's average order value over the last 4 weeks (a
    compound-Poisson sum); the scale is floored at 1 for orders and 1.2 for revenue (baskets vary), so a perfectly
    regular baseline cannot turn a tiny difference into a huge z.
  - The fulfillment rate is compared in percentage points; its scale is floored at the binomial noise of the hour's
    orders around a 90 % rate (100 * sqrt(0.09 / n)) and at 2 points, because baselines weeks old are fully
    fulfilled while a slow order or two is normal.
  Severity by |z| and by size: critical when |z| >= 8 or the value is 80 % off the median, high when |z| >= 5 or
  50 % off, otherwise medium.
  - low_order_volume: orders z <= -4; revenue_drop / revenue_spike: revenue z <= -4 / >= 4;
  - fulfillment_rate_drop: rate z <= -4, judged only on hours whose orders have had 6 h to be fulfilled
    (hours ending 6-30 h ago) and that have at least 5 orders, because younger hours are naturally still pending.
  Volume and revenue are judged on the last 24 complete hours.
  deviation_pct = 100 * |x - median| / median (null when the median is 0). avg_*_24h are the plain means of the
  last 24 complete hours, as the spec shows them for context.
*/
create or replace function analytics.get_active_anomalies(p_now timestamptz default now())
returns table (
  hour_start timestamptz, anomaly_type text, deviation_pct numeric, severity text, total_orders int,
  avg_orders_24h numeric, total_revenue numeric, avg_revenue_24h numeric, fulfillment_rate_pct numeric,
  avg_fulfillment_24h numeric, metric text, observed_value numeric, expected_value numeric, baseline_mad numeric,
  robust_z numeric, baseline_weeks int)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_end timestamptz := date_trunc('hour', p_now, 'UTC');
  v_first timestamptz;
  v_avg_orders numeric;
  v_avg_revenue numeric;
  v_avg_fulfillment numeric;
  v_z numeric := 4.0; -- flag threshold on |robust z|
  v_aov numeric;
begin
  select min(c.hour_start) into v_first from analytics_private.hourly_commerce c where c.tenant_id = v_tenant and c.total_orders > 0;
  if v_first is null then
    return;
  end if;
  select coalesce(sum(c.total_orders), 0) / 24.0, coalesce(sum(c.total_revenue), 0) / 24.0,
         100.0 * sum(c.orders_fulfilled) / nullif(sum(c.total_orders), 0)
    into v_avg_orders, v_avg_revenue, v_avg_fulfillment
  from analytics_private.hourly_commerce c
  where c.tenant_id = v_tenant and c.hour_start >= v_end - interval '24 hours' and c.hour_start < v_end;

  select coalesce(sum(c.total_revenue) / nullif(sum(c.total_orders), 0), 0) into v_aov
  from analytics_private.hourly_commerce c
  where c.tenant_id = v_tenant and c.hour_start >= v_end - interval '28 days' and c.hour_start < v_end;

  return query
  with recent as (
    select v_end - make_interval(hours => g) as h from generate_series(1, 30) g
  ), obs as (
    select r.h, coalesce(c.total_orders, 0)::numeric as o, coalesce(c.total_revenue, 0)::numeric as rev,
           coalesce(c.orders_fulfilled, 0) as f,
           100.0 * c.orders_fulfilled / nullif(c.total_orders, 0) as rate
    from recent r left join analytics_private.hourly_commerce c on c.tenant_id = v_tenant and c.hour_start = r.h
  ), base as (
    select r.h, k, r.h - make_interval(weeks => k) as bh
    from recent r cross join generate_series(1, 6) k
    where r.h - make_interval(weeks => k) >= v_first
  ), base_vals as (
    select b.h, coalesce(c.total_orders, 0)::numeric as o, coalesce(c.total_revenue, 0)::numeric as rev,
           100.0 * c.orders_fulfilled / nullif(c.total_orders, 0) as rate
    from base b left join analytics_private.hourly_commerce c on c.tenant_id = v_tenant and c.hour_start = b.bh
  ), stab as (
    -- Anscombe transform: 2 * sqrt(x + 3/8) has variance ~1 for Poisson counts; revenue in units of the average order
    select bv.*, 2 * sqrt(bv.o + 0.375) as so, 2 * sqrt(bv.rev / nullif(v_aov, 0) + 0.375) as sr from base_vals bv
  ), med as (
    select bv.h, count(*)::int as n,
           percentile_cont(0.5) within group (order by bv.o) as mo,
           percentile_cont(0.5) within group (order by bv.rev) as mr,
           percentile_cont(0.5) within group (order by bv.rate) as mf,
           percentile_cont(0.5) within group (order by bv.so) as mso,
           percentile_cont(0.5) within group (order by bv.sr) as msr,
           count(bv.rate)::int as nf
    from stab bv group by bv.h
  ), mad as (
    select m.h, m.n, m.nf, m.mo, m.mr, m.mf, m.mso, m.msr,
           percentile_cont(0.5) within group (order by abs(bv.o - m.mo)) as mad_o,
           percentile_cont(0.5) within group (order by abs(bv.rev - m.mr)) as mad_r,
           percentile_cont(0.5) within group (order by abs(bv.rate - m.mf)) as mad_f,
           percentile_cont(0.5) within group (order by abs(bv.so - m.mso)) as mad_so,
           percentile_cont(0.5) within group (order by abs(bv.sr - m.msr)) as mad_sr
    from med m join stab bv on bv.h = m.h
    group by m.h, m.n, m.nf, m.mo, m.mr, m.mf, m.mso, m.msr
  ), scored as (
    select o.h, o.o, o.rev, o.rate, o.f, d.n, d.nf,
           d.mo::numeric as mo, d.mr::numeric as mr, d.mf::numeric as mf,
           d.mad_o::numeric as mad_o, d.mad_r::numeric as mad_r, d.mad_f::numeric as mad_f,
           (2 * sqrt(o.o + 0.375) - d.mso::numeric) / greatest(1.4826 * d.mad_so::numeric, 1) as z_o,
           (2 * sqrt(o.rev / nullif(v_aov, 0) + 0.375) - d.msr::numeric) / greatest(1.4826 * d.mad_sr::numeric, 1.2) as z_r,
           (o.rate - d.mf::numeric) / greatest(1.4826 * coalesce(d.mad_f::numeric, 0), 100 * sqrt(0.09 / greatest(o.o, 1)), 2.0) as z_f
    from obs o join mad d on d.h = o.h
    where d.n >= 3
  ), flagged as (
    select s.*, 'low_order_volume'::text as kind, 'orders'::text as m, s.o as x, s.mo as e, s.mad_o as md, s.z_o as z
    from scored s where s.h >= v_end - interval '24 hours' and s.z_o <= -v_z
    union all
    select s.*, 'revenue_drop', 'revenue', s.rev, s.mr, s.mad_r, s.z_r
    from scored s where s.h >= v_end - interval '24 hours' and s.z_r <= -v_z
    union all
    select s.*, 'revenue_spike', 'revenue', s.rev, s.mr, s.mad_r, s.z_r
    from scored s where s.h >= v_end - interval '24 hours' and s.z_r >= v_z
    union all
    select s.*, 'fulfillment_rate_drop', 'fulfillment_rate_pct', s.rate, s.mf, s.mad_f, s.z_f
    from scored s
    where s.h < v_end - interval '6 hours' and s.o >= 5 and s.nf >= 3 and s.z_f <= -v_z
  )
  select fl.h, fl.kind,
         round(100.0 * abs(fl.x - fl.e) / nullif(fl.e, 0), 1),
         case when abs(fl.z) >= 8 or abs(fl.x - fl.e) >= 0.8 * abs(fl.e) then 'critical'
              when abs(fl.z) >= 5 or abs(fl.x - fl.e) >= 0.5 * abs(fl.e) then 'high' else 'medium' end,
         fl.o::int, round(v_avg_orders, 1), round(fl.rev, 2), round(v_avg_revenue, 2), round(fl.rate, 1),
         round(v_avg_fulfillment, 1), fl.m, round(fl.x, 2), round(fl.e, 2), round(fl.md, 2), round(fl.z, 2), fl.n
  from flagged fl
  order by abs(fl.z) desc, fl.h desc;
end
$$;

/*
  Approval queue metrics (spec: GET /agent/queue) by UTC day or hour of item creation, over the last p_days days
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
  v_from timestamptz := date_trunc('day', p_now, 'UTC') - make_interval(days => v_days - 1);
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

-- Agent accuracy (spec: GET /agent/accuracy) per agent type and UTC day, last p_days days (1..30), optional agent filter.
create or replace function analytics.get_agent_accuracy(p_days int default 7, p_agent text default null, p_now timestamptz default now())
returns table (
  agent_type text, day_bucket date, total_queries int, approved_queries int, human_edited_queries int,
  approval_rate_pct numeric, edit_rate_pct numeric, avg_latency_ms numeric, max_latency_ms int,
  avg_accuracy_score numeric, avg_helpfulness_score numeric, avg_tone_score numeric, safe_to_send_count int)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_days int := least(greatest(coalesce(p_days, 7), 1), 30);
  v_today date := (p_now at time zone 'UTC')::date;
begin
  return query
  select a.agent_type, a.day_bucket, a.total_queries, a.approved_queries, a.human_edited_queries, a.approval_rate_pct,
         a.edit_rate_pct, a.avg_latency_ms, a.max_latency_ms, a.avg_accuracy_score, a.avg_helpfulness_score,
         a.avg_tone_score, a.safe_to_send_count
  from analytics_private.agent_accuracy_metrics a
  where a.tenant_id = v_tenant and a.day_bucket > v_today - v_days and a.day_bucket <= v_today
    and (p_agent is null or a.agent_type = p_agent)
  order by a.day_bucket desc, a.agent_type;
end
$$;

-- Training-data quality (spec: GET /agent/quality) per UTC day, last p_days days (1..30). Definitions at the view.
create or replace function analytics.get_training_quality(p_days int default 7, p_now timestamptz default now())
returns table (
  day_bucket date, total_training_examples int, safe_examples int, unsafe_examples int, safety_rate_pct numeric,
  avg_accuracy numeric, avg_helpfulness numeric, avg_tone numeric, overall_quality_score numeric,
  high_quality_rate_pct numeric, unique_annotators int, unique_categories int, positive_sentiment int,
  neutral_sentiment int, negative_sentiment int, avg_model_confidence numeric, avg_response_time_ms numeric)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.read');
  v_days int := least(greatest(coalesce(p_days, 7), 1), 30);
  v_today date := (p_now at time zone 'UTC')::date;
begin
  return query
  select t.day_bucket, t.total_training_examples, t.safe_examples, t.unsafe_examples, t.safety_rate_pct, t.avg_accuracy,
         t.avg_helpfulness, t.avg_tone, t.overall_quality_score, t.high_quality_rate_pct, t.unique_annotators,
         t.unique_categories, t.positive_sentiment, t.neutral_sentiment, t.negative_sentiment, t.avg_model_confidence,
         t.avg_response_time_ms
  from analytics_private.training_quality_metrics t
  where t.tenant_id = v_tenant and t.day_bucket > v_today - v_days and t.day_bucket <= v_today
  order by t.day_bucket desc;
end
$$;

/*
  Agent 24 h summary (spec: GET /agent/summary) over the last 24 complete hours. pending_approvals is the live count of
  pending queue items (the operators' to-do list, not a 24 h figure); approvals_24h = items approved or edited in the
  window (by decision time); avg_confidence_24h = mean confidence of items drafted in the window; avg_latency_24h =
  mean latency of queries in the window; avg_accuracy_24h = mean accuracy score of examples annotated in the window.
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
    'pending_approvals', (select count(*)::int from public.approval_queue_items q where q.tenant_id = v_tenant and q.status = 'pending'),
    'approvals_24h', r.approvals,
    'avg_confidence_24h', round(r.confidence_sum / nullif(r.confidence_n, 0), 2),
    'queries_24h', r.queries,
    'avg_latency_24h', round(r.latency_sum / nullif(r.queries, 0), 1),
    'approved_queries_24h', r.approved_queries,
    'training_examples_24h', r.examples,
    'safe_examples_24h', r.safe,
    'avg_accuracy_24h', round(r.accuracy_sum / nullif(r.accuracy_n, 0), 2),
    'window_start', v_end - interval '24 hours',
    'window_end', v_end,
    'summary_updated_at', (select analytics.last_refreshed_at())
  );
end
$$;

/*
  Best-effort PII scrub in SQL (the server applies a fuller redaction on top): the linked customer's own name, email
  and phone, then any email address, card-like digit run (13-19 digits) and phone-like number.
*/
create or replace function analytics.scrub_pii(p_text text, p_names text[]) returns text
language plpgsql immutable set search_path = ''
as $$
declare
  v text := p_text;
  v_names text;
begin
  if v is null then
    return null;
  end if;
  -- one pattern for all the names, the same for a row's three fields, so the compiled regex is reused
  select string_agg(regexp_replace(n, '([^A-Za-z0-9 ])', '\\\1', 'g'), '|' order by length(n) desc) into v_names
  from unnest(p_names) n where length(n) >= 2;
  if v_names is not null then
    v := regexp_replace(v, '\m(' || v_names || ')\M', '[NAME]', 'gi');
  end if;
  v := regexp_replace(v, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '[EMAIL]', 'g');
  v := regexp_replace(v, '\m(?:\d[ -]?){12,18}\d\M', '[CARD]', 'g');
  v := regexp_replace(v, '(?:\+?\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}', '[PHONE]', 'g');
  return v;
end
$$;

/*
  Training-data export (spec: POST /export/training-data): annotated examples created in [date_from, date_to], oldest
  first, in keyset pages (after (created_at, id), at most p_limit rows) so the server can stream a large range.
  Needs analytics.export; include_pii needs analytics.export_pii. confidence is the model's confidence as a 0–1 fraction.
*/
create or replace function analytics.export_training_dataset(
  include_pii boolean default false, date_from timestamptz default null, date_to timestamptz default null,
  p_after_created_at timestamptz default null, p_after_id bigint default 0, p_limit int default null)
returns table (
  id bigint, conversation_id bigint, input_text text, model_draft text, safe_to_send boolean, category text,
  sentiment text, tone text, accuracy_score numeric, helpfulness_score numeric, tone_score numeric, notes text,
  confidence numeric, response_time_ms int, created_at timestamptz)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_tenant uuid := analytics.require_tenant('analytics.export');
begin
  if coalesce(include_pii, false) and not (select app.has_permission('analytics.export_pii')) then
    raise exception 'permission analytics.export_pii required to include personal data' using errcode = '42501';
  end if;
  return query
  select t.id, t.conversation_id,
         case when include_pii then t.input_text else analytics.scrub_pii(t.input_text, n.names) end,
         case when include_pii then t.model_draft else analytics.scrub_pii(t.model_draft, n.names) end,
         t.safe_to_send, t.category, t.sentiment, t.tone, t.accuracy_score, t.helpfulness_score, t.tone_score,
         case when include_pii then t.notes else analytics.scrub_pii(t.notes, n.names) end,
         round(t.model_confidence / 100.0, 4), t.response_time_ms, t.created_at
  from public.training_examples t
  left join public.conversations c on c.id = t.conversation_id and c.tenant_id = v_tenant
  left join public.customers cu on cu.id = c.customer_id and cu.tenant_id = v_tenant
  cross join lateral (
    select array_remove(array[cu.first_name, cu.last_name, cu.email, cu.phone], null) as names
  ) n
  where t.tenant_id = v_tenant
    and (date_from is null or t.created_at >= date_from)
    and (date_to is null or t.created_at <= date_to)
    and (p_after_created_at is null or (t.created_at, t.id) > (p_after_created_at, p_after_id))
  order by t.created_at, t.id
  limit p_limit;
end
$$;

revoke execute on all functions in schema analytics from public;
grant execute on function
  analytics.get_dashboard_summary(timestamptz),
  analytics.get_hourly_trends(int, timestamptz),
  analytics.get_active_anomalies(timestamptz),
  analytics.get_queue_metrics(text, int, timestamptz),
  analytics.get_agent_accuracy(int, text, timestamptz),
  analytics.get_training_quality(int, timestamptz),
  analytics.get_agent_summary(timestamptz),
  analytics.export_training_dataset(boolean, timestamptz, timestamptz, timestamptz, bigint, int),
  analytics.last_refreshed_at(),
  analytics.scrub_pii(text, text[])
  to authenticated, service_role;
grant execute on function analytics.refresh_views() to service_role;
