import { PreprocessError, type PreprocessSpec } from './preprocess.ts'
import type { RawTable } from './raw-table.ts'
import { featureImportance, type FeatureImportance } from './explain.ts'
import { loadModel, type ModelFormat } from './scoring.ts'
import { evaluateExternal, prepareExternal, runTraining, type ExternalInput, type Step, type TrainResult, type TrainSpec } from './train-core.ts'

/*
  The pool thread's side of a training (app/jobs/thread-pool.server.ts): the dataset arrives as typed arrays moved,
  not copied; progress goes back as { step, pct, message } messages. Cancelling terminates this thread.
*/

export interface TrainThreadInput {
  table: RawTable
  spec: TrainSpec
}

export interface TrainThreadProgress {
  step: Step
  pct: number
  message: string
}

/** A problem with the data or the request (the field it is about), as opposed to a crash. */
export interface TrainRefusal {
  refused: { field: string; message: string; code: 'VALIDATION_ERROR' | 'INSUFFICIENT_DATA' }
}

export async function train(input: TrainThreadInput, ctx?: { progress(value: TrainThreadProgress): void }): Promise<TrainResult | TrainRefusal> {
  let last = 0
  try {
    return await runTraining(input.table, input.spec, (step, pct, message) => {
      // A few messages a second at most: each one becomes a database write on the other side.
      const now = Date.now()
      if (step === 'training' && now - last < 250) return
      last = now
      ctx?.progress({ step, pct, message })
    })
  } catch (e) {
    if (e instanceof PreprocessError) return { refused: { field: e.field, message: e.message, code: e.code } }
    throw e
  }
}

/** The split and matrices for an external trainer. */
export function prepare(input: TrainThreadInput): ExternalInput | TrainRefusal {
  try {
    return prepareExternal(input.table, input.spec)
  } catch (e) {
    if (e instanceof PreprocessError) return { refused: { field: e.field, message: e.message, code: e.code } }
    throw e
  }
}

export function evaluate(input: Parameters<typeof evaluateExternal>[0] & { format: ModelFormat; artefact: Uint8Array; shap: boolean; shapRows: number }) {
  return evaluateExternal(input, input.format, input.artefact, { shap: input.shap, shapRows: input.shapRows })
}

/** SHAP importance of a stored model on rows already through its preprocess. */
export function explain(input: { format: ModelFormat; artefact: Uint8Array; preprocess: PreprocessSpec; x: Float32Array; rows: number }): FeatureImportance {
  return featureImportance(loadModel(input.format, input.artefact), input.preprocess, input.x, input.rows)
}
