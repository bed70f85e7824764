/*
  Jobs: the mirror of every pg-boss job a tenant started (status, progress, result, error), which is what
  users and the API read. pg-boss keeps its own tables in schema `pgboss` (created by pg-boss itself on
  start); a row here has the same id as its pg-boss job. Only the server writes these rows.
*/

create table public.jobs (
  id uuid primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  status text not null default 'queued' check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  progress smallint not null default 0 check (progress between 0 and 100),
  message text,
  result jsonb,
  error text,
  -- at most one queued or running job per (tenant, name, key): enqueueJob returns the existing one
  singleton_key text,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now()
);
create index jobs_tenant_id_idx on public.jobs (tenant_id);
create index jobs_tenant_id_created_at_idx on public.jobs (tenant_id, created_at desc);
create unique index jobs_singleton_idx on public.jobs (tenant_id, name, singleton_key)
  where singleton_key is not null and status in ('queued', 'running');
create trigger jobs_updated_at before update on public.jobs for each row execute function app.set_updated_at();
create trigger jobs_tenant_fixed before update on public.jobs for each row execute function app.protect_tenant_id();

alter table public.jobs enable row level security;
create policy "Members can read their tenant's jobs" on public.jobs
  for select to authenticated using (tenant_id = (select app.tenant_id()));
-- No insert/update/delete policy for authenticated: job state changes only through the server.
grant select on public.jobs to authenticated;
grant select, insert, update, delete on public.jobs to service_role;
