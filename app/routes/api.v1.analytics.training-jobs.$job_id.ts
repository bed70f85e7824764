import { getAssetTraining } from '#app/features/marketplace/marketplace.server.ts'
import { trainingJobIdParam } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "An asset training's status: progress through data_preparation, training, evaluation, versioning, deployment; results (model performance, deployment status, version)",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: trainingJobIdParam,
    handler: ({ db, params }) => getAssetTraining(db, params.job_id),
  },
})

export const loader = route.loader
export const action = route.action
