/*
  A stable order for the per-row error report (insertion order = file order), so the CSV download can be
  streamed in pages (keyset on id) instead of being built in memory.
*/
alter table public.dataset_file_errors add column id bigint generated always as identity;
create index dataset_file_errors_file_id_id_idx on public.dataset_file_errors (file_id, id);
drop index if exists public.dataset_file_errors_file_row_idx;
