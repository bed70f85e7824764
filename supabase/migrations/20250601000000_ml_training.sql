/*
  Model training and the model registry (ML spec module 8).

  - training_jobs: a training request (the spec's "predictor"): dataset, column roles, problem type, algorithm and
    parameters. Its state (status, progress, current step, error, log) is its job's: job_id references public.jobs,
    and the row never copies it. preprocess_id and model_id point at what inference uses.
  - preprocesses: a fitted preprocessing object (stored JSON with a checksum), fitted on the training split.
  - model_versions: each trained candidate of a training (the leaderboard), its artefact in the file store (key,
    SHA-256, size, format), metrics, parameters, data reference and duration. The chosen one is training_jobs.model_id.
  - feature_importance: the SHAP importance of a training's model, and the job computing it.

  Members with models.read see their tenant's rows; models.write may create a training, delete it, and point it at
  another of its tenant's preprocesses (that one column). Everything else is written by the server (the worker).
*/

-- ---------------------------------------------------------------- training_jobs
create table public.training_jobs (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  predictor_name text not null check (length(trim(predictor_name)) between 1 and 200),
  domain text not null check (length(trim(domain)) between 1 and 100),
  problem_type text not null check (problem_type in ('Classification', 'Regression')),
  -- set null: a training and its model outlive the dataset they were trained on (dataset_name keeps the name)
  dataset_id bigint references public.datasets (id) on delete set null,
  dataset_name text not null,
  data_source text not null default 'csv',
  -- [{ column_name, data_type, attribute_name }] for every column of the dataset, as resolved by the server
  columns jsonb not null check (jsonb_typeof(columns) = 'array'),
  algorithm text not null default 'auto' check (algorithm in ('auto', 'xgboost', 'linear')),
  -- hyperparameters, validation split, folds, seed: the request merged with the defaults
  params jsonb not null default '{}' check (jsonb_typeof(params) = 'object'),
  shap_enabled boolean not null default true,
  is_incremental boolean not null default false,
  engine text not null default 'wasm' check (engine in ('wasm', 'python', 'ray')),
  job_id uuid not null,
  -- the external trainer's own id (a Ray submission id) when engine is not wasm
  external_job_id text check (length(external_job_id) <= 200),
  -- what an external trainer posted to /train/result for job_id: { job_id, metrics, error, file_key, checksum, … }
  external_result jsonb check (external_result is null or jsonb_typeof(external_result) = 'object'),
  -- how many times a worker was lost while running it (one retry, then failed)
  lost_workers smallint not null default 0 check (lost_workers >= 0),
  preprocess_id bigint,
  model_id bigint,
  created_by uuid,
  created_by_name text,
  modified_by_name text,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  unique (tenant_id, predictor_name),
  unique (id, tenant_id),
  foreign key (job_id, tenant_id) references public.jobs (id, tenant_id)
);
create index training_jobs_tenant_id_idx on public.training_jobs (tenant_id);
create index training_jobs_job_id_idx on public.training_jobs (job_id);
create index training_jobs_dataset_id_idx on public.training_jobs (dataset_id);
create index training_jobs_preprocess_id_idx on public.training_jobs (preprocess_id);
create index training_jobs_model_id_idx on public.training_jobs (model_id);
create trigger training_jobs_audit before insert or update on public.training_jobs
  for each row execute function app.set_audit_fields();
create trigger training_jobs_tenant_fixed before update on public.training_jobs
  for each row execute function app.protect_tenant_id();

-- The dataset must be the training's tenant's (RLS hides other tenants' datasets; the foreign key alone would not).
create or replace function app.check_training_dataset_tenant() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.dataset_id is not null and not exists (
    select 1 from public.datasets d where d.id = new.dataset_id and d.tenant_id = new.tenant_id) then
    raise exception 'dataset % is not in tenant %', new.dataset_id, new.tenant_id using errcode = '23503';
  end if;
  return new;
end
$$;
create trigger training_jobs_dataset_same_tenant before insert or update of dataset_id on public.training_jobs
  for each row execute function app.check_training_dataset_tenant();

alter table public.training_jobs enable row level security;
create policy "Members with models.read can read their tenant's trainings" on public.training_jobs
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.read')));
create policy "Members with models.write can start trainings" on public.training_jobs
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.write')));
create policy "Members with models.write can change a training's preprocess" on public.training_jobs
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.write')))
  with check (tenant_id = (select app.tenant_id()));
create policy "Members with models.write can delete trainings" on public.training_jobs
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.write')));
grant select, delete on public.training_jobs to authenticated;
grant insert (tenant_id, predictor_name, domain, problem_type, dataset_id, dataset_name, data_source, columns, algorithm,
  params, shap_enabled, is_incremental, engine, job_id) on public.training_jobs to authenticated;
-- The only column a member changes: which preprocess the model reads its input through (POST /train/update/).
grant update (preprocess_id) on public.training_jobs to authenticated;
grant select, insert, update, delete on public.training_jobs to service_role;

-- ---------------------------------------------------------------- preprocesses
create table public.preprocesses (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  training_id bigint not null,
  -- the fitted object (app/features/ml/preprocess.ts PreprocessSpec)
  spec jsonb not null check (jsonb_typeof(spec) = 'object'),
  -- SHA-256 of the spec's canonical JSON text, hex
  checksum text not null check (checksum ~ '^[0-9a-f]{64}$'),
  feature_count int not null check (feature_count >= 0),
  fitted_rows bigint not null check (fitted_rows >= 0),
  created_at timestamptz not null default now(),
  unique (id, tenant_id),
  foreign key (training_id, tenant_id) references public.training_jobs (id, tenant_id) on delete cascade
);
create index preprocesses_tenant_id_idx on public.preprocesses (tenant_id);
create index preprocesses_training_id_idx on public.preprocesses (training_id);
alter table public.preprocesses enable row level security;
create policy "Members with models.read can read their tenant's preprocesses" on public.preprocesses
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.read')));
-- No insert/update/delete policy for authenticated: fitted by the worker only, and never changed.
grant select on public.preprocesses to authenticated;
grant select, insert, delete on public.preprocesses to service_role;

-- A training points at a preprocess of its own tenant (no action: a preprocess another training uses cannot go).
alter table public.training_jobs add constraint training_jobs_preprocess_fkey
  foreign key (preprocess_id, tenant_id) references public.preprocesses (id, tenant_id);

-- ---------------------------------------------------------------- model_versions
create table public.model_versions (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  training_id bigint not null,
  version int not null check (version >= 1),
  algorithm text not null check (algorithm in ('XGBoost', 'Linear')),
  model_name text not null check (model_name in ('XGBoostClassifier', 'XGBoostRegressor', 'LogisticRegression', 'LinearRegression')),
  -- place on the training's leaderboard (1 = best by the validation score)
  rank int not null check (rank >= 1),
  preprocess_id bigint not null,
  format text not null check (format in ('xgboost-binary', 'xgboost-json', 'linear-json')),
  file_key text not null check (length(file_key) between 1 and 512),
  checksum text not null check (checksum ~ '^[0-9a-f]{64}$'),
  size_bytes bigint not null check (size_bytes > 0),
  metrics jsonb not null check (jsonb_typeof(metrics) = 'object'),
  score jsonb not null check (jsonb_typeof(score) = 'object'),
  params jsonb not null default '{}' check (jsonb_typeof(params) = 'object'),
  cross_validation jsonb,
  -- the early-stopping metric per round (XGBoost)
  history jsonb,
  best_iteration int,
  -- dataset id and name, silver table, rows used, split and seed
  data_ref jsonb not null check (jsonb_typeof(data_ref) = 'object'),
  duration_ms int not null check (duration_ms >= 0),
  trained_by text not null default 'wasm' check (trained_by in ('wasm', 'python', 'ray')),
  created_at timestamptz not null default now(),
  unique (training_id, version),
  unique (id, tenant_id),
  foreign key (training_id, tenant_id) references public.training_jobs (id, tenant_id) on delete cascade,
  foreign key (preprocess_id, tenant_id) references public.preprocesses (id, tenant_id)
);
create index model_versions_tenant_id_idx on public.model_versions (tenant_id);
create index model_versions_preprocess_id_idx on public.model_versions (preprocess_id);
alter table public.model_versions enable row level security;
create policy "Members with models.read can read their tenant's models" on public.model_versions
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.read')));
-- No insert/update/delete policy for authenticated: registered by the worker, deleted with their training.
grant select on public.model_versions to authenticated;
grant select, insert, delete on public.model_versions to service_role;

alter table public.training_jobs add constraint training_jobs_model_fkey
  foreign key (model_id, tenant_id) references public.model_versions (id, tenant_id);

-- ---------------------------------------------------------------- feature_importance
create table public.feature_importance (
  training_id bigint primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- the job computing it: the training itself (shap_enabled), a feature-importance job, or the external trainer's
  job_id uuid not null,
  model_id bigint,
  -- null until computed: { feature_importance, mean_abs_shap, method, rows, base_value, local_accuracy_max_error }
  result jsonb check (result is null or jsonb_typeof(result) = 'object'),
  source text not null check (source in ('training', 'job', 'callback')),
  requested_at timestamptz not null default now(),
  computed_at timestamptz,
  foreign key (training_id, tenant_id) references public.training_jobs (id, tenant_id) on delete cascade,
  foreign key (job_id, tenant_id) references public.jobs (id, tenant_id),
  foreign key (model_id, tenant_id) references public.model_versions (id, tenant_id) on delete cascade
);
create index feature_importance_tenant_id_idx on public.feature_importance (tenant_id);
create index feature_importance_job_id_idx on public.feature_importance (job_id);
create index feature_importance_model_id_idx on public.feature_importance (model_id);
alter table public.feature_importance enable row level security;
create policy "Members with models.read can read their tenant's feature importance" on public.feature_importance
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.read')));
-- Members request a computation (the row with an empty result, pointing at their job); only the worker writes a result.
create policy "Members with models.write can request feature importance" on public.feature_importance
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.write')) and result is null and source = 'job');
create policy "Members with models.write can request it again" on public.feature_importance
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.write')))
  with check (tenant_id = (select app.tenant_id()) and result is null and source = 'job');
create policy "Members with models.write can delete feature importance" on public.feature_importance
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('models.write')));
grant select, delete on public.feature_importance to authenticated;
grant insert (training_id, tenant_id, job_id, model_id, result, source, requested_at, computed_at),
  update (job_id, model_id, result, source, requested_at, computed_at) on public.feature_importance to authenticated;
grant select, insert, update, delete on public.feature_importance to service_role;
