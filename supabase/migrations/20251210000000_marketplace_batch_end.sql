/*
  A batch whose job failed for good or was cancelled tells its callback_url so (batch.failed / batch.cancelled), once:
  end_notified_at is claimed by whichever path sees the end first (the worker, reconciliation after a lost worker,
  cancelJob of a queued job, or the minute sweep). origin is where the client reached us, for the payload's results_url
  (the job's data carried it; a job that ended without running has only the row).
*/

alter table public.asset_batches
  add column origin text check (length(origin) <= 500),
  add column end_notified_at timestamptz;

-- the sweep's scan: batches with a callback whose end has not been told
create index asset_batches_end_pending_idx on public.asset_batches (job_id)
  where callback_url is not null and end_notified_at is null;
