import { batchPredictionRoute } from '#app/features/inference/endpoints.server.ts'

const route = batchPredictionRoute()

export const loader = route.loader
export const action = route.action
