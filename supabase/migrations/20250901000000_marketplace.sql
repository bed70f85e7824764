/*
  The analytics assets marketplace (MK spec): providers publish assets, consumers of any tenant execute them.

  - data_sources: a provider's connections (postgres, mysql, datalake; bigquery and snowflake accepted). The non-secret
    settings in `config`; the credentials AES-256-GCM encrypted by the server in `secret`, a column no API role may
    read. Only the provider tenant sees its rows.
  - assets (+ asset_data_sources): what a provider offers; `kind` model (a trained model version) or sql (a read-only
    query over a data source). Only the provider tenant reads this table; consumers see published assets through
    public.marketplace_assets, which carries the public columns only (no configuration, query or data sources).
  - asset_versions: every version of an asset (semver), its definition (model version, derived input/output schema,
    query), the changes computed from the diff, notes, and its status (active, canary, deprecated…).
  - asset_subscriptions: a consumer tenant's use of an asset (billing agreement, per-subscriber webhook secret,
    encrypted; not readable by API roles).
  - asset_executions: the meter. One row per execution (consumer, version, status, latency, the price applied and
    whether it was billable); usage and revenue are computed from these rows. Written by the server only; the provider
    sees its assets' rows, a consumer its own tenant's.
  - asset_batches / asset_batch_records: a batch execution (its job in public.jobs, consumer tenant) and each record.
  - webhook_deliveries / webhook_attempts: signed callbacks and their delivery log.
  - asset_deployments: a deploy of a version (blue_green / canary), its steps and rollback.
  - asset_trainings: POST …/train requests and the ml training they started.
*/

-- ---------------------------------------------------------------- data sources
create table public.data_sources (
  id text primary key check (id ~ '^src_[0-9a-z]{12,32}$'),
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  name text not null check (length(trim(name)) between 1 and 200),
  type text not null check (type in ('postgres', 'mysql', 'datalake', 'bigquery', 'snowflake')),
  config jsonb not null default '{}' check (jsonb_typeof(config) = 'object'),
  -- 'v1:<iv>:<tag>:<ciphertext>' (base64url), AES-256-GCM; null when the type needs no credentials
  secret text,
  access_level text not null default 'read_only' check (access_level in ('read_only')),
  validation_query text check (length(validation_query) <= 10000),
  status text not null default 'connecting' check (status in ('connecting', 'connected', 'disconnected', 'error', 'not_installed')),
  tables jsonb not null default '[]' check (jsonb_typeof(tables) = 'array'),
  last_test jsonb,
  last_validated timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, name),
  unique (id, tenant_id)
);
revoke all on public.data_sources from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index data_sources_tenant_id_idx on public.data_sources (tenant_id, created_at desc);
create trigger data_sources_updated_at before update on public.data_sources for each row execute function app.set_updated_at();
create trigger data_sources_tenant_fixed before update on public.data_sources for each row execute function app.protect_tenant_id();
alter table public.data_sources enable row level security;
create policy "Members with assets.read can read their tenant's data sources" on public.data_sources
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
create policy "Members with assets.write can connect data sources" on public.data_sources
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
create policy "Members with assets.write can update their tenant's data sources" on public.data_sources
  for update to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
-- no `secret` for API roles; the server reads and writes it as itself
grant select (id, tenant_id, name, type, config, access_level, validation_query, status, tables, last_test, last_validated, created_by, created_at, updated_at)
  on public.data_sources to authenticated;
grant insert (id, tenant_id, name, type, config, access_level, validation_query, created_by) on public.data_sources to authenticated;
grant update (status, tables, last_test, last_validated) on public.data_sources to authenticated;
grant select, insert, update, delete on public.data_sources to service_role;

-- ---------------------------------------------------------------- assets
create table public.assets (
  id text primary key check (id ~ '^asset_[0-9a-z]{12,32}$'),
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  name text not null check (length(trim(name)) between 1 and 200),
  description text not null default '' check (length(description) <= 5000),
  category text not null check (category ~ '^[a-z][a-z0-9_]{0,63}$'),
  subcategory text check (subcategory ~ '^[a-z][a-z0-9_]{0,63}$'),
  kind text not null check (kind in ('model', 'sql')),
  status text not null default 'draft' check (status in ('draft', 'published', 'archived')),
  configuration jsonb not null default '{}' check (jsonb_typeof(configuration) = 'object'),
  validation_rules jsonb not null default '{}' check (jsonb_typeof(validation_rules) = 'object'),
  pricing jsonb not null default '{}' check (jsonb_typeof(pricing) = 'object'),
  -- the newest version's string; active_version_id takes the traffic, canary_version_id a share of it
  version text not null default '1.0.0',
  active_version_id bigint,
  canary_version_id bigint,
  canary_share numeric check (canary_share is null or canary_share between 0 and 1),
  published_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, tenant_id)
);
revoke all on public.assets from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index assets_tenant_id_idx on public.assets (tenant_id, created_at desc);
create index assets_published_idx on public.assets (status, category) where status = 'published';
create trigger assets_tenant_fixed before update on public.assets for each row execute function app.protect_tenant_id();
alter table public.assets enable row level security;
create policy "Members with assets.read can read their tenant's assets" on public.assets
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
create policy "Members with assets.write can create assets" on public.assets
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
create policy "Members with assets.write can change their tenant's assets" on public.assets
  for update to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
create policy "Members with assets.write can delete their tenant's assets" on public.assets
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
grant select, delete on public.assets to authenticated;
grant insert (id, tenant_id, name, description, category, subcategory, kind, configuration, validation_rules, pricing, version, created_by)
  on public.assets to authenticated;
grant update (name, description, category, subcategory, status, configuration, validation_rules, pricing, version, published_at, updated_at)
  on public.assets to authenticated;
grant select, insert, update, delete on public.assets to service_role;

create table public.asset_data_sources (
  asset_id text not null,
  source_id text not null,
  tenant_id uuid not null default (app.tenant_id()),
  tables jsonb not null default '[]' check (jsonb_typeof(tables) = 'array'),
  access_level text not null default 'read_only' check (access_level in ('read_only')),
  primary key (asset_id, source_id),
  -- both the asset and the source belong to the same tenant
  foreign key (asset_id, tenant_id) references public.assets (id, tenant_id) on delete cascade,
  foreign key (source_id, tenant_id) references public.data_sources (id, tenant_id)
);
revoke all on public.asset_data_sources from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_data_sources_source_id_idx on public.asset_data_sources (source_id);
create index asset_data_sources_tenant_id_idx on public.asset_data_sources (tenant_id);
alter table public.asset_data_sources enable row level security;
create policy "Members with assets.read can read their tenant's asset sources" on public.asset_data_sources
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
create policy "Members with assets.write can link sources to assets" on public.asset_data_sources
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
create policy "Members with assets.write can unlink sources" on public.asset_data_sources
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
grant select, insert, delete on public.asset_data_sources to authenticated;
grant select, insert, update, delete on public.asset_data_sources to service_role;

-- ---------------------------------------------------------------- versions
create table public.asset_versions (
  id bigint generated always as identity primary key,
  asset_id text not null,
  tenant_id uuid not null default (app.tenant_id()),
  version text not null check (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
  major integer not null check (major >= 0),
  minor integer not null check (minor >= 0),
  patch integer not null check (patch >= 0),
  status text not null default 'candidate'
    check (status in ('candidate', 'active', 'canary', 'deprecated', 'failed', 'rolled_back')),
  -- kind-specific: { model_version_id, preprocess_id, training_id } or { source_id, query, parameters }, and the
  -- input_schema / output_schema derived from it
  definition jsonb not null check (jsonb_typeof(definition) = 'object'),
  model_version_id bigint references public.model_versions (id) on delete set null,
  changes jsonb not null default '[]' check (jsonb_typeof(changes) = 'array'),
  version_notes text check (length(version_notes) <= 5000),
  requires_retraining boolean not null default false,
  created_by uuid,
  created_at timestamptz not null default now(),
  deployed_at timestamptz,
  unique (asset_id, version),
  unique (id, tenant_id),
  foreign key (asset_id, tenant_id) references public.assets (id, tenant_id) on delete cascade
);
revoke all on public.asset_versions from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_versions_asset_id_idx on public.asset_versions (asset_id, id desc);
create index asset_versions_tenant_id_idx on public.asset_versions (tenant_id);
create index asset_versions_model_version_id_idx on public.asset_versions (model_version_id);
alter table public.asset_versions enable row level security;
create policy "Members with assets.read can read their tenant's asset versions" on public.asset_versions
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
create policy "Members with assets.write can add asset versions" on public.asset_versions
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
create policy "Members with assets.write can change a version's status" on public.asset_versions
  for update to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.write')));
grant select on public.asset_versions to authenticated;
grant insert (asset_id, tenant_id, version, major, minor, patch, status, definition, model_version_id, changes, version_notes, requires_retraining, created_by, deployed_at)
  on public.asset_versions to authenticated;
grant update (status, deployed_at) on public.asset_versions to authenticated;
grant select, insert, update, delete on public.asset_versions to service_role;

alter table public.assets add foreign key (active_version_id) references public.asset_versions (id) on delete set null;
alter table public.assets add foreign key (canary_version_id) references public.asset_versions (id) on delete set null;
create index assets_active_version_id_idx on public.assets (active_version_id);
create index assets_canary_version_id_idx on public.assets (canary_version_id);
grant update (active_version_id, canary_version_id, canary_share) on public.assets to authenticated;

-- ---------------------------------------------------------------- the catalogue consumers read
-- Public columns of published assets, for any member holding assets.read. The view runs with its owner's rights
-- (it reads across tenants), so it carries its own filter.
create view public.marketplace_assets as
  select a.id, a.tenant_id as provider_tenant_id, t.name as provider_name, a.name, a.description, a.category, a.subcategory,
         a.kind, a.status, a.pricing, a.version, a.published_at, a.created_at, a.updated_at,
         v.version as active_version, v.definition -> 'input_schema' as input_schema, v.definition -> 'output_schema' as output_schema
    from public.assets a
    join public.tenants t on t.id = a.tenant_id
    left join public.asset_versions v on v.id = a.active_version_id
   where a.status = 'published' and (select app.has_permission('assets.read'));
revoke all on public.marketplace_assets from anon, authenticated;
grant select on public.marketplace_assets to authenticated, service_role;

-- ---------------------------------------------------------------- subscriptions
create table public.asset_subscriptions (
  id bigint generated always as identity primary key,
  asset_id text not null references public.assets (id) on delete cascade,
  provider_tenant_id uuid not null references public.tenants (id) on delete cascade,
  consumer_tenant_id uuid not null references public.tenants (id) on delete cascade,
  status text not null default 'active' check (status in ('active', 'cancelled')),
  billing_agreement_at timestamptz,
  -- the HMAC key of this subscriber's webhooks, encrypted like data source credentials
  webhook_secret text not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  unique (asset_id, consumer_tenant_id)
);
revoke all on public.asset_subscriptions from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_subscriptions_consumer_idx on public.asset_subscriptions (consumer_tenant_id);
create index asset_subscriptions_provider_idx on public.asset_subscriptions (provider_tenant_id);
alter table public.asset_subscriptions enable row level security;
create policy "Consumers can read their tenant's subscriptions" on public.asset_subscriptions
  for select to authenticated using (consumer_tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
create policy "Providers can read their assets' subscriptions" on public.asset_subscriptions
  for select to authenticated using (provider_tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
grant select (id, asset_id, provider_tenant_id, consumer_tenant_id, status, billing_agreement_at, created_at) on public.asset_subscriptions to authenticated;
grant select, insert, update, delete on public.asset_subscriptions to service_role;

-- ---------------------------------------------------------------- the meter
create table public.asset_executions (
  id text primary key check (id ~ '^exec_[0-9a-z]{12,32}$'),
  asset_id text not null references public.assets (id) on delete cascade,
  version_id bigint references public.asset_versions (id) on delete set null,
  version text,
  provider_tenant_id uuid not null references public.tenants (id) on delete cascade,
  consumer_tenant_id uuid not null references public.tenants (id) on delete cascade,
  consumer_user_id uuid,
  consumer_api_key_id text,
  batch_id text,
  -- success; error (the asset failed); rejected (the input or the quota refused it: not billed, not downtime)
  status text not null check (status in ('success', 'error', 'rejected')),
  error_code text,
  latency_ms double precision not null check (latency_ms >= 0),
  data_points integer,
  price numeric not null default 0 check (price >= 0),
  currency text,
  billable boolean not null default false,
  created_at timestamptz not null default now()
);
revoke all on public.asset_executions from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_executions_asset_idx on public.asset_executions (asset_id, created_at desc);
create index asset_executions_consumer_idx on public.asset_executions (consumer_tenant_id, asset_id, created_at desc);
create index asset_executions_provider_idx on public.asset_executions (provider_tenant_id, created_at desc);
create index asset_executions_version_idx on public.asset_executions (version_id, created_at desc);
create index asset_executions_batch_idx on public.asset_executions (batch_id) where batch_id is not null;
alter table public.asset_executions enable row level security;
create policy "Providers can read their assets' executions" on public.asset_executions
  for select to authenticated using (provider_tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
create policy "Consumers can read their tenant's own executions" on public.asset_executions
  for select to authenticated using (consumer_tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
grant select on public.asset_executions to authenticated;
grant select, insert, delete on public.asset_executions to service_role;

-- ---------------------------------------------------------------- batches
create table public.asset_batches (
  id text primary key check (id ~ '^batch_[0-9a-z]{12,32}$'),
  asset_id text not null references public.assets (id) on delete cascade,
  provider_tenant_id uuid not null references public.tenants (id) on delete cascade,
  consumer_tenant_id uuid not null references public.tenants (id) on delete cascade,
  job_id uuid not null,
  total_records integer not null check (total_records >= 0),
  parameters jsonb not null default '{}',
  callback_url text check (length(callback_url) <= 2000),
  created_by uuid,
  created_at timestamptz not null default now(),
  foreign key (job_id, consumer_tenant_id) references public.jobs (id, tenant_id)
);
revoke all on public.asset_batches from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_batches_asset_idx on public.asset_batches (asset_id);
create index asset_batches_consumer_idx on public.asset_batches (consumer_tenant_id, created_at desc);
create index asset_batches_provider_idx on public.asset_batches (provider_tenant_id);
create index asset_batches_job_id_idx on public.asset_batches (job_id);
alter table public.asset_batches enable row level security;
create policy "Consumers can read their tenant's batches" on public.asset_batches
  for select to authenticated using (consumer_tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
grant select on public.asset_batches to authenticated;
grant select, insert, update, delete on public.asset_batches to service_role;

create table public.asset_batch_records (
  batch_id text not null references public.asset_batches (id) on delete cascade,
  idx integer not null check (idx >= 0),
  consumer_tenant_id uuid not null references public.tenants (id) on delete cascade,
  record_id text,
  customer_id text,
  input jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'success', 'error')),
  result jsonb,
  error jsonb,
  processed_at timestamptz,
  primary key (batch_id, idx)
);
revoke all on public.asset_batch_records from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_batch_records_tenant_idx on public.asset_batch_records (consumer_tenant_id);
alter table public.asset_batch_records enable row level security;
create policy "Consumers can read their tenant's batch records" on public.asset_batch_records
  for select to authenticated using (consumer_tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
grant select on public.asset_batch_records to authenticated;
grant select, insert, update, delete on public.asset_batch_records to service_role;

-- ---------------------------------------------------------------- webhooks
create table public.webhook_deliveries (
  id bigint generated always as identity primary key,
  -- whose webhook it is (the subscriber of a batch callback, the provider of a deployment notification)
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  subject text not null check (length(subject) <= 200),
  event text not null check (length(event) <= 100),
  url text not null check (length(url) <= 2000),
  body text not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  last_status_code integer,
  last_error text,
  next_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now()
);
revoke all on public.webhook_deliveries from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index webhook_deliveries_tenant_idx on public.webhook_deliveries (tenant_id, created_at desc);
create index webhook_deliveries_subject_idx on public.webhook_deliveries (subject);
create table public.webhook_attempts (
  delivery_id bigint not null references public.webhook_deliveries (id) on delete cascade,
  attempt integer not null,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  status_code integer,
  error text,
  duration_ms double precision not null,
  attempted_at timestamptz not null default now(),
  primary key (delivery_id, attempt)
);
revoke all on public.webhook_attempts from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index webhook_attempts_tenant_idx on public.webhook_attempts (tenant_id);
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_attempts enable row level security;
create policy "Members with assets.read can read their tenant's webhook deliveries" on public.webhook_deliveries
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
create policy "Members with assets.read can read their tenant's webhook attempts" on public.webhook_attempts
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
grant select on public.webhook_deliveries, public.webhook_attempts to authenticated;
grant select, insert, update, delete on public.webhook_deliveries, public.webhook_attempts to service_role;

-- ---------------------------------------------------------------- deployments and trainings
create table public.asset_deployments (
  id text primary key check (id ~ '^deploy_[0-9a-z]{12,32}$'),
  asset_id text not null,
  tenant_id uuid not null default (app.tenant_id()),
  version_id bigint not null,
  from_version_id bigint references public.asset_versions (id) on delete set null,
  strategy text not null check (strategy in ('blue_green', 'canary')),
  status text not null default 'deploying' check (status in ('deploying', 'health_check', 'canary', 'completed', 'rolled_back', 'failed')),
  canary_steps jsonb not null default '[]',
  rollback_threshold jsonb not null default '{}',
  notification_webhooks jsonb not null default '[]',
  job_id uuid,
  log jsonb not null default '[]',
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  foreign key (asset_id, tenant_id) references public.assets (id, tenant_id) on delete cascade,
  foreign key (version_id, tenant_id) references public.asset_versions (id, tenant_id) on delete cascade
);
revoke all on public.asset_deployments from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_deployments_asset_idx on public.asset_deployments (asset_id, started_at desc);
create index asset_deployments_tenant_idx on public.asset_deployments (tenant_id);
create index asset_deployments_version_idx on public.asset_deployments (version_id);
create index asset_deployments_from_version_idx on public.asset_deployments (from_version_id);
alter table public.asset_deployments enable row level security;
create policy "Members with assets.read can read their tenant's deployments" on public.asset_deployments
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
grant select on public.asset_deployments to authenticated;
grant select, insert, update, delete on public.asset_deployments to service_role;

create table public.asset_trainings (
  id text primary key check (id ~ '^job_[0-9a-z]{12,32}$'),
  asset_id text not null,
  tenant_id uuid not null default (app.tenant_id()),
  training_id bigint references public.training_jobs (id) on delete set null,
  job_id uuid not null,
  request jsonb not null,
  result_version_id bigint references public.asset_versions (id) on delete set null,
  deployment_status text,
  created_by uuid,
  created_at timestamptz not null default now(),
  foreign key (asset_id, tenant_id) references public.assets (id, tenant_id) on delete cascade,
  foreign key (job_id, tenant_id) references public.jobs (id, tenant_id)
);
revoke all on public.asset_trainings from anon, authenticated; -- Supabase's default privileges; the grants below are all there is
create index asset_trainings_asset_idx on public.asset_trainings (asset_id);
create index asset_trainings_tenant_idx on public.asset_trainings (tenant_id);
create index asset_trainings_training_idx on public.asset_trainings (training_id);
create index asset_trainings_job_idx on public.asset_trainings (job_id);
create index asset_trainings_result_version_idx on public.asset_trainings (result_version_id);
alter table public.asset_trainings enable row level security;
create policy "Members with assets.read can read their tenant's asset trainings" on public.asset_trainings
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('assets.read')));
grant select on public.asset_trainings to authenticated;
grant select, insert, update, delete on public.asset_trainings to service_role;
