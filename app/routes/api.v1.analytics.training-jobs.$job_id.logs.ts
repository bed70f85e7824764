import { assetTrainingLogs } from '#app/features/marketplace/marketplace.server.ts'
import { trainingJobIdParam } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "An asset training's log: the ml training's lines, the asset job's and its deployment's, in time order",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: trainingJobIdParam,
    handler: ({ db, params }) => assetTrainingLogs(db, params.job_id),
  },
})

export const loader = route.loader
export const action = route.action
