/*
  Row counts of dataset tables come from the dataset (exact, kept by every upload, add and delete) instead
  of the planner's estimate: uploads no longer run ANALYZE (it cost as much CPU as the load itself);
  autovacuum analyzes the tables later.
*/
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
           coalesce(case t.schema_name when 'silver' then d.valid_records when 'bronze' then d.total_records end,
                    greatest(coalesce(c.reltuples, 0), 0)::bigint),
           t.created_at
      from public.dataset_tables t
      left join public.datasets d on d.id = t.dataset_id
      left join pg_catalog.pg_namespace n on n.nspname = t.schema_name
      left join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = t.table_name
     where t.tenant_id = (select app.tenant_id()) and t.schema_name = p_schema and c.oid is not null
     order by t.display_name;
end
$$;
