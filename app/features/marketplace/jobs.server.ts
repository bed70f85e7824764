import { defineJob } from '#app/jobs/jobs.server.ts'
import { deliverWebhook, WEBHOOK_JOB, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_DELAY_SECONDS } from './webhooks.server.ts'

/*
  The marketplace's jobs (one import line in app/jobs/registry.server.ts):
  - marketplace.webhook: one attempt of a signed delivery; pg-boss retries it with exponential backoff.
*/

defineJob<{ deliveryId: number }>(WEBHOOK_JOB, (data, ctx) => deliverWebhook(data, ctx), {
  retryLimit: WEBHOOK_MAX_ATTEMPTS - 1,
  retryDelaySeconds: WEBHOOK_RETRY_DELAY_SECONDS,
  retryBackoff: true,
  expireInSeconds: 60,
  teamSize: 2,
})
