/*
  The inference area's public surface (ML spec module 9): what routes, pages and other areas call. README.md is the
  map of the rooms behind it.
*/
export { predictOne } from './realtime.server.ts'
export { formBasedPrediction } from './form.server.ts'
export { listPredictions, loadPrediction, predictionResult } from './log.server.ts'
export { modelContext, type ModelContext } from './model.server.ts'
export { previewGold, retryBatch, startBatch, terminatePrediction, BATCH_JOB } from './batch.server.ts'
export { batchPredictionRoute } from './endpoints.server.ts'
