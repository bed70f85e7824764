import { getDb } from '#app/db/index.server.ts'
import { defineSchedule } from '#app/jobs/jobs.server.ts'
import { refreshOpsViews } from './refresh.server.ts'

/*
  The ops area's jobs, registered by one line in app/jobs/registry.server.ts: the analytics views are refreshed every
  5 minutes (and a few seconds after an ingest or a queue decision: requestOpsRefresh in refresh.server.ts).
*/
defineSchedule('ops.refresh-views', '*/5 * * * *', async () => ({ refreshed_at: await refreshOpsViews(await getDb()) }))
