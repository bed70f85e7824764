/*
  The analytics service (AS spec): what its endpoints keep, and the gate to the datasets they read.

  - app.analytics_dataset(id): the dataset's silver table and typed columns, for a caller holding analytics.read
    (users through their roles, API keys through their scopes) in the dataset's tenant. Unknown and foreign ids
    look the same (P0002). The server reads the silver table itself after this check; no API role can.
  - public.analytics_models: the linear models POST /analytics/predictive fits (model_id, coefficients, metrics).
  - public.segmentations: the k-means runs of POST /segmentation/cluster; each one's assignments are a gold table
    registered in public.dataset_tables (dropped with its dataset, like the bronze and silver tables).
*/

create or replace function app.analytics_dataset(p_dataset_id bigint)
returns table (dataset_id bigint, dataset_name text, table_name text, columns jsonb, valid_records bigint, iceberg_table_name text)
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not ((select app.has_permission('analytics.read')) or (select app.has_permission('analytics.write'))) then
    raise exception 'analytics needs the analytics.read permission' using errcode = '42501';
  end if;
  return query
    select d.id, d.dataset_name, r.table_name, d.columns, d.valid_records, d.iceberg_table_name
      from public.datasets d
      join public.dataset_tables r on r.dataset_id = d.id and r.schema_name = 'silver'
     where d.id = p_dataset_id and d.tenant_id = (select app.tenant_id())
       and to_regclass(format('silver.%I', r.table_name)) is not null;
  if not found then
    raise exception 'dataset % not found', p_dataset_id using errcode = 'P0002';
  end if;
end
$$;
revoke execute on function app.analytics_dataset(bigint) from public;
grant execute on function app.analytics_dataset(bigint) to authenticated, service_role;

-- ---------------------------------------------------------------- models fitted by /analytics/predictive
create table public.analytics_models (
  id text primary key check (id ~ '^model_[0-9a-f]{16,32}$'),
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  -- the model outlives its dataset (it still predicts from given features)
  dataset_id bigint references public.datasets (id) on delete set null,
  model_type text not null check (model_type in ('linear_regression', 'ridge')),
  target text not null,
  features jsonb not null check (jsonb_typeof(features) = 'array'),
  -- intercept, coefficients, standard errors, covariance, residual variance and df: enough to predict with intervals
  parameters jsonb not null,
  metrics jsonb not null,
  config jsonb not null default '{}',
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now()
);
create index analytics_models_tenant_id_idx on public.analytics_models (tenant_id, created_at desc);
create index analytics_models_dataset_id_idx on public.analytics_models (dataset_id);
alter table public.analytics_models enable row level security;
create policy "Members with analytics.read can read their tenant's models" on public.analytics_models
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.read')));
create policy "Members with analytics.write can save models" on public.analytics_models
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.write')));
create policy "Members with analytics.write can delete models" on public.analytics_models
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.write')));
grant select, insert, delete on public.analytics_models to authenticated, service_role;

-- ---------------------------------------------------------------- segmentations by /segmentation/cluster
create table public.segmentations (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  dataset_id bigint not null references public.datasets (id) on delete cascade,
  algorithm text not null check (algorithm in ('kmeans')),
  n_clusters integer not null check (n_clusters between 2 and 50),
  features jsonb not null check (jsonb_typeof(features) = 'array'),
  clusters jsonb not null,
  metrics jsonb not null,
  -- the gold table holding each row's cluster (its display name in the datalake)
  gold_table text,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now()
);
create index segmentations_tenant_id_idx on public.segmentations (tenant_id, created_at desc);
create index segmentations_dataset_id_idx on public.segmentations (dataset_id);
alter table public.segmentations enable row level security;
create policy "Members with analytics.read can read their tenant's segmentations" on public.segmentations
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.read')));
create policy "Members with analytics.write can save segmentations" on public.segmentations
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.write')));
create policy "Members with analytics.write can delete segmentations" on public.segmentations
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('analytics.write')));
grant select, insert, delete on public.segmentations to authenticated, service_role;
