/*
  Real-time streams (AS spec POST /stream/create, GET /stream/{id}/metrics): the streams a tenant defines, their
  windowed aggregates, the anomalies found in them, and what the consumers have applied.

  - public.streams: one row per stream (source, window and aggregations), with its counters and watermark (the newest
    event time seen). Members with analytics.write create and delete them; the counters are written by the server only.
  - public.stream_windows: one row per window and series key: count, sum, min, max and a quantile sketch (p95). Written
    only by the server (a batch's window deltas, the consumer's offset and the counters in one transaction).
  - public.stream_anomalies: closed windows whose robust z-score over the series' recent windows passed the threshold.
  - public.stream_throughput: events and summed latency per 10-second bucket, for events_per_second / avg_latency_ms.
  - public.stream_applied: message ids (Redis Streams entry ids, JetStream sequences) applied and not yet known to be
    acknowledged: a redelivered message is skipped, so a crash between commit and ack does not count it twice.
  - public.stream_offsets: the next offset per Kafka partition, committed with the windows it produced.
  No API role can write any of these but streams (name, source, analytics) and delete streams.
*/

create table public.streams (
  id text primary key check (id ~ '^stream_[0-9a-f]{16}$'),
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  source jsonb not null check (source ->> 'type' in ('http', 'redis', 'nats', 'kafka')),
  analytics jsonb not null,
  status text not null default 'running' check (status in ('running', 'stopped')),
  watermark timestamptz,
  -- grows by one with every applied batch; windows carry the version that last changed them (live output reads past it)
  version bigint not null default 0,
  events_processed bigint not null default 0,
  late_events bigint not null default 0,
  invalid_events bigint not null default 0,
  anomalies_detected bigint not null default 0,
  latency_ms_sum double precision not null default 0,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  last_updated timestamptz not null default now(),
  unique (tenant_id, name),
  unique (id, tenant_id)
);
create index streams_tenant_id_idx on public.streams (tenant_id, created_at desc);
create index streams_running_idx on public.streams ((source ->> 'type')) where status = 'running';
alter table public.streams enable row level security;
create policy "Members with analytics.read or analytics.write can read their tenant's streams" on public.streams
  for select to authenticated using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('analytics.read')) or (select app.has_permission('analytics.write'))));
create policy "Members with analytics.write can create streams" on public.streams
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.write')));
create policy "Members with analytics.write can delete streams" on public.streams
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.write')));
revoke all on public.streams from authenticated, anon;
grant select, delete on public.streams to authenticated;
grant insert (id, name, source, analytics) on public.streams to authenticated;
grant all on public.streams to service_role;

create table public.stream_windows (
  stream_id text not null,
  tenant_id uuid not null,
  window_start timestamptz not null,
  window_end timestamptz not null,
  -- the group_by values as a JSON array text ('' without group_by)
  series_key text not null default '',
  count bigint not null default 0,
  valued bigint not null default 0,
  sum double precision not null default 0,
  min double precision,
  max double precision,
  sketch jsonb not null default '{"p":{},"n":{},"z":0}',
  closed boolean not null default false,
  version bigint not null,
  updated_at timestamptz not null default now(),
  primary key (stream_id, window_start, series_key),
  foreign key (stream_id, tenant_id) references public.streams (id, tenant_id) on delete cascade
);
create index stream_windows_version_idx on public.stream_windows (stream_id, version);
create index stream_windows_open_idx on public.stream_windows (stream_id, window_end) where not closed;
create index stream_windows_tenant_id_idx on public.stream_windows (tenant_id);
alter table public.stream_windows enable row level security;
create policy "Members with analytics.read can read their tenant's stream windows" on public.stream_windows
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.read')));
revoke all on public.stream_windows from authenticated, anon;
grant select on public.stream_windows to authenticated;
grant all on public.stream_windows to service_role;

create table public.stream_anomalies (
  id bigint generated always as identity primary key,
  stream_id text not null,
  tenant_id uuid not null,
  window_start timestamptz not null,
  window_end timestamptz not null,
  series_key text not null default '',
  aggregation text not null,
  value double precision not null,
  median double precision not null,
  mad double precision not null,
  z_score double precision,
  history_size integer not null,
  detected_at timestamptz not null default now(),
  unique (stream_id, window_start, series_key),
  foreign key (stream_id, tenant_id) references public.streams (id, tenant_id) on delete cascade
);
create index stream_anomalies_tenant_id_idx on public.stream_anomalies (tenant_id);
alter table public.stream_anomalies enable row level security;
create policy "Members with analytics.read can read their tenant's stream anomalies" on public.stream_anomalies
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.read')));
revoke all on public.stream_anomalies from authenticated, anon;
grant select on public.stream_anomalies to authenticated;
grant all on public.stream_anomalies to service_role;

create table public.stream_throughput (
  stream_id text not null references public.streams (id) on delete cascade,
  -- epoch seconds / 10
  bucket bigint not null,
  events bigint not null default 0,
  latency_ms_sum double precision not null default 0,
  primary key (stream_id, bucket)
);
alter table public.stream_throughput enable row level security;
revoke all on public.stream_throughput from authenticated, anon;
grant all on public.stream_throughput to service_role;

create table public.stream_applied (
  stream_id text not null references public.streams (id) on delete cascade,
  -- Redis entry id <ms>-<seq>; JetStream: (stream sequence, 0)
  msg_hi bigint not null,
  msg_lo bigint not null,
  primary key (stream_id, msg_hi, msg_lo)
);
alter table public.stream_applied enable row level security;
revoke all on public.stream_applied from authenticated, anon;
grant all on public.stream_applied to service_role;

create table public.stream_offsets (
  stream_id text not null references public.streams (id) on delete cascade,
  partition text not null,
  next_offset text not null,
  primary key (stream_id, partition)
);
alter table public.stream_offsets enable row level security;
revoke all on public.stream_offsets from authenticated, anon;
grant all on public.stream_offsets to service_role;
