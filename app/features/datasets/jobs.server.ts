import { getDb } from '#app/db/index.server.ts'
import { defineJob } from '#app/jobs/jobs.server.ts'
import { onMaintenance } from '#app/jobs/maintenance.server.ts'
import { dropStaleStaged } from './load/side-load.server.ts'
import { computeStatistics, STATISTICS_JOB, type StatisticsJobData } from './statistics/statistics.server.ts'

/**
 * The datasets area's background work, registered by one import line in app/jobs/registry.server.ts:
 * - `dataset.statistics`: computes a dataset's statistics (statistics/); its state is the job's (public.jobs),
 *   its result goes to public.dataset_statistics, the row that references the job.
 * - in the hourly maintenance: drop bronze tables an upload staged on its second connection but never committed
 *   (its process died between the two commits; load/side-load.server.ts).
 */

defineJob<StatisticsJobData>(STATISTICS_JOB, async (data, ctx) => {
  const db = await getDb()
  const result = await computeStatistics(db, ctx.tenantId, data.datasetId, ctx.step)
  ctx.signal.throwIfAborted()
  // Only this job's row: a newer request for the same dataset points the row at its own job.
  await db.query(`update public.dataset_statistics set result = $3::text::jsonb where dataset_id = $1 and job_id = $2`, [
    data.datasetId,
    ctx.jobId,
    JSON.stringify(result),
  ])
  await ctx.step('done', 100)
  return { dataset_id: data.datasetId, columns: result.columns.length, row_count: result.row_count }
})

onMaintenance('staged_tables_dropped', (db) => dropStaleStaged(db))
