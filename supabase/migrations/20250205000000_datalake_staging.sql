/*
  Bronze tables of a new dataset are created and loaded on a second connection while the upload's own
  transaction loads silver, so that Postgres loads both at once (two backends, two cores). That second
  transaction commits just before the upload's; until the upload's commits, its table is listed here.
  The upload deletes its row when it commits (and drops the table itself when it fails); a row left behind
  means the process died between the two commits: the hourly maintenance job drops such tables.
  No API role can read or write this table.
*/
create table public.datalake_staging (
  schema_name text not null check (schema_name in ('bronze', 'silver', 'gold')),
  table_name text not null,
  created_at timestamptz not null default now(),
  primary key (schema_name, table_name)
);
alter table public.datalake_staging enable row level security;
revoke all on public.datalake_staging from public, anon, authenticated;
