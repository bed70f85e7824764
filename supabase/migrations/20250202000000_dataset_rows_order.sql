/*
  Dataset preview rows keep the columns in the order of the file (jsonb would sort the keys).
  Replaces app.dataset_rows (jsonb → json).
*/
drop function if exists app.dataset_rows(bigint, text, bigint, integer);

create or replace function app.dataset_rows(p_dataset_id bigint, p_schema text, p_offset bigint, p_limit integer)
returns json
language plpgsql stable security definer set search_path = ''
as $$
declare
  r public.dataset_tables;
  cols text;
  out json;
begin
  if not (select app.has_permission('datasets.read')) then
    raise exception 'viewing datasets needs the datasets.read permission' using errcode = '42501';
  end if;
  select t.* into r from public.dataset_tables t
   where t.dataset_id = p_dataset_id and t.schema_name = p_schema and t.tenant_id = (select app.tenant_id());
  if r.id is null or to_regclass(format('%I.%I', r.schema_name, r.table_name)) is null then
    raise exception 'dataset % not found', p_dataset_id using errcode = 'P0002';
  end if;
  select string_agg(format('%I', a.attname), ', ' order by a.attnum) into cols
    from pg_catalog.pg_attribute a
   where a.attrelid = format('%I.%I', r.schema_name, r.table_name)::regclass
     and a.attnum > 0 and not a.attisdropped and a.attname !~ '^_hd_';
  execute format(
    'select coalesce(json_agg(to_json(x)), ''[]''::json) from (select %s from %I.%I order by _hd_file_id, _hd_row offset %s limit %s) x',
    coalesce(cols, '1 as empty'), r.schema_name, r.table_name, greatest(p_offset, 0), least(greatest(p_limit, 0), 1000)) into out;
  return out;
end
$$;
revoke execute on function app.dataset_rows(bigint, text, bigint, integer) from public;
grant execute on function app.dataset_rows(bigint, text, bigint, integer) to authenticated, service_role;
