/*
  One job state. public.jobs is the only place for a job's status, progress, current step (message) and
  error; pg-boss only carries the job to a worker. A domain row (dataset_statistics here, training_jobs
  next) references its job by job_id and keeps only its own result; it reads the state by joining the job.

  This migration:
  - adds public.job_logs, the append-only log of a job's steps (written by the worker, read by members);
  - makes dataset_statistics.job_id a uuid referencing public.jobs (same tenant) and drops the copies of
    status, progress, message, error and completed_at it kept. Rows whose job is not in public.jobs (the
    demo seed wrote 'demo-seed') get a job row carrying the state they had.
*/

-- A domain row and a log line name their job together with its tenant, so they cannot point across tenants.
alter table public.jobs add constraint jobs_id_tenant_id_key unique (id, tenant_id);

-- ---------------------------------------------------------------- job_logs
create table public.job_logs (
  id bigint generated always as identity primary key,
  job_id uuid not null,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  at timestamptz not null default now(),
  level text not null default 'info' check (level in ('info', 'warn', 'error')),
  message text not null check (length(message) between 1 and 2000),
  foreign key (job_id, tenant_id) references public.jobs (id, tenant_id) on delete cascade
);
create index job_logs_job_id_id_idx on public.job_logs (job_id, id);
create index job_logs_tenant_id_idx on public.job_logs (tenant_id);

-- Append-only: a line once written is never changed (deleting goes with the job).
create or replace function app.job_logs_append_only() returns trigger
language plpgsql set search_path = ''
as $$
begin
  raise exception 'job_logs is append-only' using errcode = '42501';
end;
$$;
create trigger job_logs_append_only before update on public.job_logs
  for each row execute function app.job_logs_append_only();

alter table public.job_logs enable row level security;
create policy "Members can read their tenant's job logs" on public.job_logs
  for select to authenticated using (tenant_id = (select app.tenant_id()));
-- No insert/update/delete policy for authenticated: only the worker writes the log.
grant select on public.job_logs to authenticated;
grant select, insert on public.job_logs to service_role;

-- ---------------------------------------------------------------- dataset_statistics references its job
alter table public.dataset_statistics add column job uuid;
update public.dataset_statistics s set job = j.id from public.jobs j where j.id::text = s.job_id and j.tenant_id = s.tenant_id;
with orphans as (
  select dataset_id, tenant_id, status, progress, message, error, requested_at, completed_at, gen_random_uuid() as id
    from public.dataset_statistics where job is null
), created as (
  insert into public.jobs (id, tenant_id, name, status, progress, message, error, created_at, started_at, finished_at)
  select id, tenant_id, 'dataset.statistics', status, progress, message, error, requested_at, requested_at,
         case when status in ('completed', 'failed', 'cancelled') then coalesce(completed_at, requested_at) end
    from orphans
  returning id
)
update public.dataset_statistics s set job = o.id from orphans o where o.dataset_id = s.dataset_id;

alter table public.dataset_statistics drop column job_id;
alter table public.dataset_statistics rename column job to job_id;
alter table public.dataset_statistics alter column job_id set not null;
alter table public.dataset_statistics add constraint dataset_statistics_job_fkey
  foreign key (job_id, tenant_id) references public.jobs (id, tenant_id);
create index dataset_statistics_job_id_idx on public.dataset_statistics (job_id);
alter table public.dataset_statistics
  drop column status, drop column progress, drop column message, drop column error, drop column completed_at;
