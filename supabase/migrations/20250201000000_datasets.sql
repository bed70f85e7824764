/*
  Datasets: templates (the expected columns of a CSV), datasets and their files, the per-row error
  report of each file, statistics, and the bronze/silver/gold datalake.

  The datalake holds one physical table per dataset and layer, named `<layer>.t_<tenant8>_<name>`
  (e.g. silver.t_1a2b3c4d_sales_q3). No API role can touch those schemas: the server (the owning
  role) loads them, and callers read them only through the security-definer functions below, which
  check the tenant's registry (public.dataset_tables) and the catalog before building any SQL.
  Deleting a registry row (directly or by cascade from its dataset or tenant) drops its table.
*/

create schema if not exists bronze;
create schema if not exists silver;
create schema if not exists gold;
revoke all on schema bronze, silver, gold from public;

-- Who did it, as a name the spec shows ("created_by": "admin"): the username, else the email, else the role.
create or replace function app.actor_name() returns text
language sql stable security definer set search_path = ''
as $$
  select coalesce(
    (select p.username from public.profiles p where p.user_id = (select auth.uid())),
    (select auth.jwt()) ->> 'email',
    (select auth.role()),
    'system')
$$;
revoke execute on function app.actor_name() from public;
grant execute on function app.actor_name() to authenticated, service_role;

create or replace function app.set_audit_fields() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    new.created_by = coalesce(new.created_by, (select auth.uid()));
    new.created_by_name = coalesce(new.created_by_name, (select app.actor_name()));
    new.created_at = now();
  end if;
  new.modified_by_name = (select app.actor_name());
  new.modified_at = now();
  return new;
end
$$;

-- ---------------------------------------------------------------- templates
create table public.templates (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  template_name text not null check (length(trim(template_name)) between 1 and 200),
  -- [{ column_name, data_type, default_value }]: validated by the server before it gets here
  template_schema jsonb not null default '[]' check (jsonb_typeof(template_schema) = 'array'),
  created_by uuid,
  created_by_name text,
  modified_by_name text,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  unique (tenant_id, template_name)
);
create index templates_tenant_id_idx on public.templates (tenant_id);
create trigger templates_audit before insert or update on public.templates
  for each row execute function app.set_audit_fields();
create trigger templates_tenant_fixed before update on public.templates
  for each row execute function app.protect_tenant_id();
alter table public.templates enable row level security;
create policy "Members with templates.read can read their tenant's templates" on public.templates
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('templates.read')));
create policy "Members with templates.write can create templates" on public.templates
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('templates.write')));
create policy "Members with templates.write can change templates" on public.templates
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('templates.write')))
  with check (tenant_id = (select app.tenant_id()));
create policy "Members with templates.write can delete templates" on public.templates
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('templates.write')));
grant select, insert, update, delete on public.templates to authenticated, service_role;

-- ---------------------------------------------------------------- datasets
create table public.datasets (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  dataset_name text not null check (length(trim(dataset_name)) between 1 and 200),
  usage text not null check (usage ~ '^[a-z]{1,20}$'),
  -- restrict: a template in use cannot be deleted (the API answers 409 naming the datasets)
  template_id bigint references public.templates (id) on delete restrict,
  data_source text not null default 'csv',
  iceberg_table_name text not null check (iceberg_table_name ~ '^[a-z][a-z0-9_]{0,47}$'),
  -- the typed columns of the silver table: [{ column_name, data_type, default_value }]
  columns jsonb not null default '[]' check (jsonb_typeof(columns) = 'array'),
  schema_inferred boolean not null default false,
  total_records bigint not null default 0 check (total_records >= 0),
  valid_records bigint not null default 0 check (valid_records >= 0 and valid_records <= total_records),
  header_ok boolean not null default true,
  is_valid boolean not null default false,
  created_by uuid,
  created_by_name text,
  modified_by_name text,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  unique (tenant_id, dataset_name),
  unique (tenant_id, iceberg_table_name)
);
create index datasets_tenant_id_idx on public.datasets (tenant_id);
create index datasets_template_id_idx on public.datasets (template_id);
create trigger datasets_audit before insert or update on public.datasets
  for each row execute function app.set_audit_fields();
create trigger datasets_tenant_fixed before update on public.datasets
  for each row execute function app.protect_tenant_id();
alter table public.datasets enable row level security;
create policy "Members with datasets.read can read their tenant's datasets" on public.datasets
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.read')));
create policy "Members with datasets.write can create datasets" on public.datasets
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')));
create policy "Members with datasets.write can change datasets" on public.datasets
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')))
  with check (tenant_id = (select app.tenant_id()));
create policy "Members with datasets.write can delete datasets" on public.datasets
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')));
grant select, insert, update, delete on public.datasets to authenticated, service_role;

-- A template must belong to the dataset's tenant (RLS hides other tenants' templates, the FK alone would not).
create or replace function app.check_dataset_template_tenant() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.template_id is not null and not exists (
    select 1 from public.templates t where t.id = new.template_id and t.tenant_id = new.tenant_id) then
    raise exception 'template % is not in tenant %', new.template_id, new.tenant_id using errcode = '23503';
  end if;
  return new;
end
$$;
create trigger datasets_template_same_tenant before insert or update of template_id on public.datasets
  for each row execute function app.check_dataset_template_tenant();

-- ---------------------------------------------------------------- files
create table public.dataset_files (
  id bigint generated always as identity primary key,
  tenant_id uuid not null default (app.tenant_id()) references public.tenants (id) on delete cascade,
  dataset_id bigint not null references public.datasets (id) on delete cascade,
  file_name text not null check (length(file_name) between 1 and 255),
  -- key in the file store; never shown or accepted as a path
  storage_key text not null unique,
  size_bytes bigint not null default 0,
  delimiter text not null default ',',
  header jsonb not null default '[]',
  total_records bigint not null default 0,
  total_fields integer not null default 0,
  valid_records bigint not null default 0,
  invalid_records bigint not null default 0,
  error_count bigint not null default 0,
  -- null when the file has no problem; else a summary (counts by rule and column, header issues, first errors)
  error_report jsonb,
  created_by uuid,
  created_by_name text,
  modified_by_name text,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now()
);
create index dataset_files_tenant_id_idx on public.dataset_files (tenant_id);
create index dataset_files_dataset_id_idx on public.dataset_files (dataset_id);
create trigger dataset_files_audit before insert or update on public.dataset_files
  for each row execute function app.set_audit_fields();
create trigger dataset_files_tenant_fixed before update on public.dataset_files
  for each row execute function app.protect_tenant_id();
alter table public.dataset_files enable row level security;
create policy "Members with datasets.read can read their tenant's files" on public.dataset_files
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.read')));
create policy "Members with datasets.write can add files" on public.dataset_files
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')));
create policy "Members with datasets.write can change files" on public.dataset_files
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')))
  with check (tenant_id = (select app.tenant_id()));
create policy "Members with datasets.write can delete files" on public.dataset_files
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')));
grant select, insert, update, delete on public.dataset_files to authenticated, service_role;

-- A file belongs to a dataset of its own tenant.
create or replace function app.check_file_dataset_tenant() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if not exists (select 1 from public.datasets d where d.id = new.dataset_id and d.tenant_id = new.tenant_id) then
    raise exception 'dataset % is not in tenant %', new.dataset_id, new.tenant_id using errcode = '23503';
  end if;
  return new;
end
$$;
create trigger dataset_files_same_tenant before insert or update of dataset_id on public.dataset_files
  for each row execute function app.check_file_dataset_tenant();

-- ---------------------------------------------------------------- per-row error report
-- One row per broken rule: row_number 0 is the header; data rows count from 1 (the first row after the header).
create table public.dataset_file_errors (
  file_id bigint not null references public.dataset_files (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  row_number bigint not null,
  column_name text,
  value text,
  rule text not null,
  message text not null
);
create index dataset_file_errors_file_row_idx on public.dataset_file_errors (file_id, row_number);
create index dataset_file_errors_tenant_id_idx on public.dataset_file_errors (tenant_id);
alter table public.dataset_file_errors enable row level security;
create policy "Members with datasets.read can read their tenant's error reports" on public.dataset_file_errors
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.read')));
grant select on public.dataset_file_errors to authenticated, service_role;

-- ---------------------------------------------------------------- statistics
create table public.dataset_statistics (
  dataset_id bigint primary key references public.datasets (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  job_id text,
  status text not null default 'queued' check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  progress integer not null default 0 check (progress between 0 and 100),
  message text,
  result jsonb,
  error text,
  requested_at timestamptz not null default now(),
  completed_at timestamptz
);
create index dataset_statistics_tenant_id_idx on public.dataset_statistics (tenant_id);
alter table public.dataset_statistics enable row level security;
create policy "Members with datasets.read can read their tenant's statistics" on public.dataset_statistics
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.read')));
create policy "Members with datasets.write can request statistics" on public.dataset_statistics
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')));
create policy "Members with datasets.write can re-request statistics" on public.dataset_statistics
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('datasets.write')))
  with check (tenant_id = (select app.tenant_id()));
grant select, insert, update on public.dataset_statistics to authenticated, service_role;

-- ---------------------------------------------------------------- datalake registry
create table public.dataset_tables (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  dataset_id bigint references public.datasets (id) on delete cascade,
  schema_name text not null check (schema_name in ('bronze', 'silver', 'gold')),
  table_name text not null check (table_name ~ '^t_[0-9a-f]{8}_[a-z][a-z0-9_]{0,47}$'),
  -- the name users know the table by (the dataset's iceberg_table_name)
  display_name text not null check (display_name ~ '^[a-z][a-z0-9_]{0,47}$'),
  created_at timestamptz not null default now(),
  last_access_at timestamptz,
  unique (schema_name, table_name),
  unique (tenant_id, schema_name, display_name)
);
create index dataset_tables_tenant_id_idx on public.dataset_tables (tenant_id);
create index dataset_tables_dataset_id_idx on public.dataset_tables (dataset_id);
alter table public.dataset_tables enable row level security;
create policy "Members with datalake.read or datasets.read can read their tenant's tables" on public.dataset_tables
  for select to authenticated using (tenant_id = (select app.tenant_id())
    and ((select app.has_permission('datalake.read')) or (select app.has_permission('datasets.read'))));
grant select on public.dataset_tables to authenticated, service_role;

-- The physical table goes with its registry row (dataset deleted, tenant deleted, or the row itself).
create or replace function app.drop_registered_table() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if old.schema_name in ('bronze', 'silver', 'gold') and old.table_name ~ '^t_[0-9a-f]{8}_[a-z][a-z0-9_]{0,47}$' then
    execute format('drop table if exists %I.%I', old.schema_name, old.table_name);
  end if;
  return old;
end
$$;
create trigger dataset_tables_drop_physical after delete on public.dataset_tables
  for each row execute function app.drop_registered_table();

-- ---------------------------------------------------------------- datalake read functions
/*
  Resolves a (schema, table) the caller named to a table registered to the caller's tenant that
  exists in the catalog. Accepts the physical name or the display name. Raises 42501 without
  datalake.read and P0002 (404) when nothing matches, so unknown and foreign tables look the same.
*/
create or replace function app.datalake_resolve(p_schema text, p_table text)
returns public.dataset_tables
language plpgsql stable security definer set search_path = ''
as $$
declare
  r public.dataset_tables;
begin
  if not (select app.has_permission('datalake.read')) then
    raise exception 'browsing the datalake needs the datalake.read permission' using errcode = '42501';
  end if;
  select t.* into r from public.dataset_tables t
   where t.tenant_id = (select app.tenant_id()) and t.schema_name = p_schema
     and (t.table_name = p_table or t.display_name = p_table)
   order by (t.table_name = p_table) desc
   limit 1;
  if r.id is null or to_regclass(format('%I.%I', r.schema_name, r.table_name)) is null then
    raise exception 'table %.% not found', p_schema, p_table using errcode = 'P0002';
  end if;
  return r;
end
$$;

-- Columns of a registered table (internal _hd_* columns hidden), with short type names.
create or replace function app.datalake_columns(p_schema text, p_table text)
returns table (column_name text, data_type text, ordinal integer)
language plpgsql stable security definer set search_path = ''
as $$
declare
  r public.dataset_tables := app.datalake_resolve(p_schema, p_table);
begin
  return query
    select a.attname::text,
           case t.typname
             when 'text' then 'varchar' when 'varchar' then 'varchar' when 'int8' then 'bigint'
             when 'int4' then 'integer' when 'float8' then 'double' when 'numeric' then 'decimal'
             when 'bool' then 'boolean' when 'date' then 'date' when 'timestamptz' then 'timestamp'
             when 'timestamp' then 'timestamp' else t.typname::text end,
           a.attnum::integer
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_type t on t.oid = a.atttypid
     where a.attrelid = format('%I.%I', r.schema_name, r.table_name)::regclass
       and a.attnum > 0 and not a.attisdropped and a.attname !~ '^_hd_'
     order by a.attnum;
end
$$;

create or replace function app.datalake_tables(p_schema text)
returns table (table_name text, display_name text, dataset_id bigint, row_estimate bigint, created_at timestamptz)
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not (select app.has_permission('datalake.read')) then
    raise exception 'browsing the datalake needs the datalake.read permission' using errcode = '42501';
  end if;
  return query
    select t.table_name, t.display_name, t.dataset_id,
           greatest(coalesce(c.reltuples, 0), 0)::bigint, t.created_at
      from public.dataset_tables t
      left join pg_catalog.pg_namespace n on n.nspname = t.schema_name
      left join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = t.table_name
     where t.tenant_id = (select app.tenant_id()) and t.schema_name = p_schema and c.oid is not null
     order by t.display_name;
end
$$;

create or replace function app.datalake_table_metadata(p_schema text, p_table text)
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  r public.dataset_tables := app.datalake_resolve(p_schema, p_table);
  rel regclass := format('%I.%I', r.schema_name, r.table_name)::regclass;
  n bigint;
begin
  execute format('select count(*) from %I.%I', r.schema_name, r.table_name) into n;
  return jsonb_build_object(
    'schema', r.schema_name,
    'table', r.display_name,
    'physical_table', r.table_name,
    'owner', coalesce((select d.created_by_name from public.datasets d where d.id = r.dataset_id), 'system'),
    'created_time', r.created_at,
    'last_access_time', r.last_access_at,
    'location', format('postgres://%s.%s', r.schema_name, r.table_name),
    'format', 'postgres',
    'row_count', n,
    'size_bytes', pg_catalog.pg_total_relation_size(rel),
    'dataset_id', r.dataset_id);
end
$$;

-- Checks that the column exists in the registered table; returns its type name.
create or replace function app.datalake_column_type(r public.dataset_tables, p_column text)
returns text
language sql stable security definer set search_path = ''
as $$
  select t.typname::text
    from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
   where a.attrelid = format('%I.%I', r.schema_name, r.table_name)::regclass
     and a.attname = p_column and a.attnum > 0 and not a.attisdropped and a.attname !~ '^_hd_'
$$;

create or replace function app.datalake_numeric_stats(p_schema text, p_table text, p_column text)
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  r public.dataset_tables := app.datalake_resolve(p_schema, p_table);
  typ text := app.datalake_column_type(r, p_column);
  out jsonb;
begin
  if typ is null then
    raise exception 'column % not found in %.%', p_column, p_schema, p_table using errcode = 'P0002';
  end if;
  if typ not in ('int2', 'int4', 'int8', 'float4', 'float8', 'numeric') then
    raise exception 'column % is not numeric (%)', p_column, typ using errcode = '22023';
  end if;
  execute format(
    'select jsonb_build_object(''column'', %L, ''count'', count(%I), ''mean'', avg(%I)::float8,
       ''std_dev'', stddev_samp(%I)::float8, ''min'', min(%I)::float8, ''max'', max(%I)::float8,
       ''median'', percentile_cont(0.5) within group (order by %I::float8)) from %I.%I',
    p_column, p_column, p_column, p_column, p_column, p_column, p_column, r.schema_name, r.table_name) into out;
  return out;
end
$$;

create or replace function app.datalake_distinct_count(p_schema text, p_table text, p_column text)
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  r public.dataset_tables := app.datalake_resolve(p_schema, p_table);
  typ text := app.datalake_column_type(r, p_column);
  out jsonb;
begin
  if typ is null then
    raise exception 'column % not found in %.%', p_column, p_schema, p_table using errcode = 'P0002';
  end if;
  execute format(
    'select jsonb_build_object(''schema'', %L, ''table'', %L, ''column'', %L, ''distinct_count'', count(distinct %I),
       ''non_null_count'', count(%I), ''null_count'', count(*) - count(%I)) from %I.%I',
    r.schema_name, r.display_name, p_column, p_column, p_column, p_column, r.schema_name, r.table_name) into out;
  return out;
end
$$;

/*
  A page of a dataset's silver (or bronze) rows as JSON objects in file order, for datasets.read.
  Columns keep the names the user gave them; internal _hd_* columns are left out.
*/
create or replace function app.dataset_rows(p_dataset_id bigint, p_schema text, p_offset bigint, p_limit integer)
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  r public.dataset_tables;
  out jsonb;
begin
  if not (select app.has_permission('datasets.read')) then
    raise exception 'viewing datasets needs the datasets.read permission' using errcode = '42501';
  end if;
  select t.* into r from public.dataset_tables t
   where t.dataset_id = p_dataset_id and t.schema_name = p_schema and t.tenant_id = (select app.tenant_id());
  if r.id is null or to_regclass(format('%I.%I', r.schema_name, r.table_name)) is null then
    raise exception 'dataset % not found', p_dataset_id using errcode = 'P0002';
  end if;
  execute format(
    'select coalesce(jsonb_agg(to_jsonb(x) - ''_hd_row'' - ''_hd_file_id'' order by x._hd_file_id, x._hd_row), ''[]'')
       from (select * from %I.%I order by _hd_file_id, _hd_row offset %s limit %s) x',
    r.schema_name, r.table_name, greatest(p_offset, 0), least(greatest(p_limit, 0), 1000)) into out;
  return out;
end
$$;

-- Marks a registered table as read (table_metadata's last_access_time). Volatile on purpose.
create or replace function app.datalake_touch(p_schema text, p_table text)
returns void
language sql volatile security definer set search_path = ''
as $$
  update public.dataset_tables t set last_access_at = now()
   where t.tenant_id = (select app.tenant_id()) and t.schema_name = p_schema
     and (t.table_name = p_table or t.display_name = p_table)
$$;

revoke execute on function app.actor_name(), app.datalake_resolve(text, text), app.datalake_columns(text, text),
  app.datalake_tables(text), app.datalake_table_metadata(text, text), app.datalake_column_type(public.dataset_tables, text),
  app.datalake_numeric_stats(text, text, text), app.datalake_distinct_count(text, text, text),
  app.dataset_rows(bigint, text, bigint, integer), app.datalake_touch(text, text),
  app.drop_registered_table(), app.check_file_dataset_tenant(), app.check_dataset_template_tenant(),
  app.set_audit_fields() from public;
grant execute on function app.actor_name(), app.datalake_resolve(text, text), app.datalake_columns(text, text),
  app.datalake_tables(text), app.datalake_table_metadata(text, text), app.datalake_column_type(public.dataset_tables, text),
  app.datalake_numeric_stats(text, text, text), app.datalake_distinct_count(text, text, text),
  app.dataset_rows(bigint, text, bigint, integer), app.datalake_touch(text, text)
  to authenticated, service_role;
