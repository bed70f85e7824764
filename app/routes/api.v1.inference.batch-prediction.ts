import { batchPredictionRoute } from '#app/features/inference/inference.server.ts'

const route = batchPredictionRoute()

export const loader = route.loader
export const action = route.action
