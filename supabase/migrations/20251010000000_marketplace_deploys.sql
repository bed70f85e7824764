/*
  Safe deploys of asset versions (POST …/versions/{version}/deploy, decision 063).

  - asset_deployments gains the state its job resumes from: the settings of the deploy (`config`: canary steps,
    intervals, minimum executions, watch time), the current canary step and share, when the step began, until when a
    blue-green switch is watched, the health check's result, and why it ended (`reason`). Status `monitoring`: the new
    version takes all traffic and the rollback threshold is still watched. At most one deployment per asset is in
    flight (a unique partial index), so two deploys cannot race.
  - asset_sample_inputs: a small ring (20 slots per asset) of input_data from successful executions, the recorded
    sample a blue-green health check runs the new version on. Consumers' inputs: written and read by the server only
    (no API role has any grant), never returned.
  - asset_notification_secrets: the provider's HMAC key for an asset's deployment notifications, sealed like the
    subscribers' webhook secrets; returned by the deploy answer to a member with assets.write, readable by no API role.
*/

alter table public.asset_deployments drop constraint asset_deployments_status_check;
alter table public.asset_deployments add constraint asset_deployments_status_check
  check (status in ('deploying', 'health_check', 'canary', 'monitoring', 'completed', 'rolled_back', 'failed'));
alter table public.asset_deployments
  add column config jsonb not null default '{}' check (jsonb_typeof(config) = 'object'),
  add column step_index integer not null default 0 check (step_index >= 0),
  add column current_share numeric check (current_share is null or current_share between 0 and 1),
  add column step_started_at timestamptz,
  add column switched_at timestamptz,
  add column monitor_until timestamptz,
  add column health_check jsonb,
  add column reason text check (length(reason) <= 2000),
  add column created_by uuid;
create unique index asset_deployments_in_flight_idx on public.asset_deployments (asset_id)
  where status in ('deploying', 'health_check', 'canary', 'monitoring');
create index asset_deployments_job_id_idx on public.asset_deployments (job_id);

create table public.asset_sample_inputs (
  asset_id text not null references public.assets (id) on delete cascade,
  slot smallint not null check (slot between 0 and 99),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  version_id bigint references public.asset_versions (id) on delete set null,
  input jsonb not null check (jsonb_typeof(input) = 'object'),
  recorded_at timestamptz not null default now(),
  primary key (asset_id, slot)
);
revoke all on public.asset_sample_inputs from anon, authenticated; -- Supabase's default privileges: no API role reads consumers' inputs
create index asset_sample_inputs_tenant_idx on public.asset_sample_inputs (tenant_id);
create index asset_sample_inputs_version_idx on public.asset_sample_inputs (version_id);
alter table public.asset_sample_inputs enable row level security;
grant select, insert, update, delete on public.asset_sample_inputs to service_role;

create table public.asset_notification_secrets (
  asset_id text primary key references public.assets (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- 'v1:<iv>:<tag>:<ciphertext>' (AES-256-GCM, bound to the asset and tenant)
  secret text not null,
  created_at timestamptz not null default now()
);
revoke all on public.asset_notification_secrets from anon, authenticated; -- Supabase's default privileges; the server reads it as itself
create index asset_notification_secrets_tenant_idx on public.asset_notification_secrets (tenant_id);
alter table public.asset_notification_secrets enable row level security;
grant select, insert, update, delete on public.asset_notification_secrets to service_role;
