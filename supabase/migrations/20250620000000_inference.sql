/*
  Inference (ML spec module 9): the prediction log.

  - predictions: one row per real-time prediction (its inputs, output, model version, latency) and one per batch
    prediction (dataset, job, gold table, result file, counts, accuracy where the scored dataset carries the target).
    A batch's state (status, progress, error, log) is its job's: job_id references public.jobs and the row never
    copies it. A real-time row is complete when written.

  Members with models.read see their tenant's predictions. Nobody writes them through the API roles directly:
  real-time rows are written by app.record_prediction (security definer: it checks inference.run and the training's
  tenant, and stamps tenant, user and time itself), batch rows by the server. PostgREST can read, never forge.
*/

create table public.predictions (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  training_id bigint not null,
  kind text not null check (kind in ('realtime', 'batch')),
  -- the model version and preprocess that produced it
  model_id bigint,
  preprocess_id bigint,
  -- batch: the scored dataset (kept as a name when the dataset is deleted)
  dataset_id bigint references public.datasets (id) on delete set null,
  dataset_name text,
  job_id uuid,
  -- real-time: the features as sent; batch: { dataset_id, explanations, … }
  input jsonb not null check (jsonb_typeof(input) = 'object'),
  -- real-time: prediction, probabilities / interval, contributions; batch: null
  output jsonb check (output is null or jsonb_typeof(output) = 'object'),
  latency_ms double precision check (latency_ms >= 0),
  no_of_records bigint check (no_of_records >= 0),
  -- computed on the scored rows that carry the target (null when none do)
  accuracy double precision check (accuracy between 0 and 1),
  metrics jsonb check (metrics is null or jsonb_typeof(metrics) = 'object'),
  -- batch results: the gold table's name (as the datalake shows it), the CSV's file record and store key
  gold_table text,
  file_id bigint references public.dataset_files (id) on delete set null,
  result_key text,
  created_by uuid,
  created_at timestamptz not null default now(),
  check (kind = 'realtime' or job_id is not null),
  unique (id, tenant_id),
  foreign key (training_id, tenant_id) references public.training_jobs (id, tenant_id) on delete cascade,
  foreign key (job_id, tenant_id) references public.jobs (id, tenant_id)
);
create index predictions_tenant_id_idx on public.predictions (tenant_id);
create index predictions_training_id_idx on public.predictions (training_id, id desc);
create index predictions_dataset_id_idx on public.predictions (dataset_id);
create index predictions_job_id_idx on public.predictions (job_id);
create index predictions_file_id_idx on public.predictions (file_id);
create trigger predictions_tenant_fixed before update on public.predictions
  for each row execute function app.protect_tenant_id();

alter table public.predictions enable row level security;
create policy "Members with models.read can read their tenant's predictions" on public.predictions
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.read')));
-- No insert/update/delete policy for authenticated: written by app.record_prediction and the server only.
grant select on public.predictions to authenticated;
grant select, insert, update, delete on public.predictions to service_role;

/*
  Logs one real-time prediction for the caller's tenant. The training must be the caller's (RLS on training_jobs
  would hide it otherwise); the caller needs inference.run. Returns the prediction's id.
*/
create or replace function app.record_prediction(
  p_training_id bigint, p_model_id bigint, p_preprocess_id bigint, p_input jsonb, p_output jsonb, p_latency_ms double precision
) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  v_tenant uuid := (select app.tenant_id());
  v_id bigint;
begin
  if v_tenant is null or not (select app.has_permission('inference.run')) then
    raise exception 'running predictions needs the inference.run permission' using errcode = '42501';
  end if;
  if not exists (select 1 from public.training_jobs t where t.id = p_training_id and t.tenant_id = v_tenant) then
    raise exception 'training % not found', p_training_id using errcode = 'P0002';
  end if;
  insert into public.predictions (tenant_id, training_id, kind, model_id, preprocess_id, input, output, latency_ms, no_of_records, created_by)
  values (v_tenant, p_training_id, 'realtime', p_model_id, p_preprocess_id, p_input, p_output, greatest(p_latency_ms, 0), 1, (select auth.uid()))
  returning id into v_id;
  return v_id;
end
$$;
revoke execute on function app.record_prediction(bigint, bigint, bigint, jsonb, jsonb, double precision) from public;
grant execute on function app.record_prediction(bigint, bigint, bigint, jsonb, jsonb, double precision) to authenticated, service_role;
