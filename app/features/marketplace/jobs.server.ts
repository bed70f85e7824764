import { getDb } from '#app/db/index.server.ts'
import { defineJob, defineSchedule, onJobEnded } from '#app/jobs/jobs.server.ts'
import { BATCH_JOB, batchEnded, notifyEndedBatches, runBatch } from './batch.server.ts'
import { DEPLOY_JOB, runDeployment } from './deploy.server.ts'
import { ASSET_TRAIN_JOB, runAssetTraining } from './trainings.server.ts'
import { deliverWebhook, WEBHOOK_JOB, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_DELAY_SECONDS } from './webhooks.server.ts'

/*
  The marketplace's jobs (one import line in app/jobs/registry.server.ts):
  - marketplace.batch: a batch's records through the execution path, then its signed callback; when the job fails for
    good or is cancelled, the callback with that status (onJobEnded), and marketplace.batch-ended sweeps up any end no
    process with this module saw.
  - marketplace.webhook: one attempt of a signed delivery; pg-boss retries it with exponential backoff.
  - marketplace.deploy: one deployment from request to its end (resumes from the row when retried after a lost worker).
  - marketplace.train: an asset's training: follows the ml training, makes the version, auto-deploys it past its threshold.
*/

defineJob<{ deliveryId: number }>(WEBHOOK_JOB, (data, ctx) => deliverWebhook(data, ctx), {
  retryLimit: WEBHOOK_MAX_ATTEMPTS - 1,
  retryDelaySeconds: WEBHOOK_RETRY_DELAY_SECONDS,
  retryBackoff: true,
  expireInSeconds: 60,
  teamSize: 2,
})

defineJob<Parameters<typeof runBatch>[0]>(BATCH_JOB, (data, ctx) => runBatch(data, ctx), {
  // a retry resumes at the first pending record
  retryLimit: 1,
  retryDelaySeconds: 5,
  expireInSeconds: 6 * 3600,
})
onJobEnded(BATCH_JOB, (sql, end) => batchEnded(sql, end))
defineSchedule('marketplace.batch-ended', '* * * * *', async () => notifyEndedBatches(await getDb()))

defineJob<{ deploymentId: string }>(DEPLOY_JOB, (data, ctx) => runDeployment(data, ctx), { retryLimit: 2, retryDelaySeconds: 5, expireInSeconds: 23 * 3600, teamSize: 3 })

defineJob<{ assetTrainingId: string }>(ASSET_TRAIN_JOB, (data, ctx) => runAssetTraining(data, ctx), { expireInSeconds: 23 * 3600, teamSize: 2 })
