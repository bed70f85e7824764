import { getDb } from '#app/db/index.server.ts'
import { startStreamConsumers, stopStreamConsumers } from '#app/features/streams/jobs.server.ts'
import { startWorker, stopWorker, type WorkerOptions } from './jobs.server.ts'

/*
  Every module that defines jobs (defineJob) or schedules (defineSchedule), imported for that side effect
  before the worker starts. Add one line per feature module, e.g.
    import '#app/features/ml/jobs.server.ts'
*/
import './maintenance.server.ts'
import '#app/features/datasets/jobs.server.ts'
import '#app/features/ops/jobs.server.ts'
import '#app/features/ml/jobs.server.ts'
import '#app/features/inference/jobs.server.ts'
import '#app/features/marketplace/jobs.server.ts'

/** Starts the pg-boss worker for every job and schedule defined above (web process or `npm run worker`). */
export async function startJobs(opts?: WorkerOptions) {
  await startWorker(await getDb(), opts)
  // Stream consumers (Redis Streams, NATS JetStream, Kafka) run where the jobs run.
  await startStreamConsumers(await getDb())
}

/** Lets running jobs finish (up to timeoutMs), then stops pg-boss. Call before closing the database. */
export async function stopJobs(opts?: { timeoutMs?: number }) {
  await stopStreamConsumers()
  await stopWorker(opts)
}
