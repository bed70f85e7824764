import { linearMargins, linearShap, type LinearModel } from './linear.ts'
import { transformRecord, transformRows, type PreprocessSpec } from './preprocess.ts'
import { marginsToOutputs, parseJsonModel, parseLegacyModel, scoreMargins, type TreeEnsemble, type TreeObjective } from './tree-model.ts'
import { fastShapTables, fastTreeShap, type FastShapTables } from './fast-tree-shap.ts'
import { treeShap, type ShapValues } from './tree-shap.ts'

/*
  One interface over every model artefact the registry stores, for training's evaluation and for inference:
  load the bytes once (cache the result), then margins → outputs (probabilities or values) and SHAP values for any
  row-major float32 matrix that a PreprocessSpec produced. Pure: no database, no WASM.

    const model = loadModel(version.format, bytes)
    const x = transformRows(preprocess, batch.columns.map((c) => c.column_name), batch.rows)
    const probs = predict(model, x, batch.rows.length)
*/

export type ModelFormat = 'xgboost-binary' | 'xgboost-json' | 'linear-json'

export type LoadedModel =
  | { kind: 'trees'; format: 'xgboost-binary' | 'xgboost-json'; objective: TreeObjective; groups: number; features: number; trees: TreeEnsemble }
  | { kind: 'linear'; format: 'linear-json'; objective: TreeObjective; groups: number; features: number; linear: LinearModel }

export interface LinearArtefact {
  format: 'hotdash-linear'
  version: 1
  objective: TreeObjective
  model: LinearModel
}

export function linearArtefact(model: LinearModel): Uint8Array {
  const objective: TreeObjective = model.kind === 'logistic' ? 'binary:logistic' : model.kind === 'multinomial' ? 'multi:softprob' : 'reg:squarederror'
  const doc: LinearArtefact = { format: 'hotdash-linear', version: 1, objective, model }
  return new TextEncoder().encode(JSON.stringify(doc))
}

export function loadModel(format: ModelFormat, bytes: Uint8Array): LoadedModel {
  if (format === 'xgboost-binary' || format === 'xgboost-json') {
    const trees = format === 'xgboost-binary' ? parseLegacyModel(bytes) : parseJsonModel(JSON.parse(new TextDecoder().decode(bytes)))
    return { kind: 'trees', format, objective: trees.objective, groups: trees.numGroups, features: trees.numFeature, trees }
  }
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as LinearArtefact
  if (doc.format !== 'hotdash-linear' || doc.version !== 1) throw new Error('linear model: unknown format')
  return { kind: 'linear', format, objective: doc.objective, groups: doc.model.coef.length, features: doc.model.features, linear: doc.model }
}

/** rows × groups margins (log-odds for binary, per-class scores for multiclass, the prediction for regression). */
export function margins(m: LoadedModel, x: Float32Array, rows: number): Float64Array {
  return m.kind === 'trees' ? scoreMargins(m.trees, x, rows, m.features) : linearMargins(m.linear, x, rows, m.features)
}

/** rows × groups outputs: P(positive) for binary, class probabilities for multiclass, values for regression. */
export function predict(m: LoadedModel, x: Float32Array, rows: number): Float64Array {
  return marginsToOutputs(m.objective, margins(m, x, rows), m.groups)
}

// Per-leaf TreeSHAP tables, made on a model's first explanation and kept as long as the loaded model is (null: too
// large for tables, the recursive algorithm runs instead).
const shapTables = new WeakMap<TreeEnsemble, FastShapTables | null>()

/** SHAP values of the margin (rows × groups × (features + 1), bias last). */
export function shapValues(m: LoadedModel, x: Float32Array, rows: number): ShapValues {
  if (m.kind !== 'trees') return linearShap(m.linear, x, rows, m.features)
  let tables = shapTables.get(m.trees)
  if (tables === undefined) shapTables.set(m.trees, (tables = fastShapTables(m.trees)))
  return tables ? fastTreeShap(tables, x, rows, m.features) : treeShap(m.trees, x, rows, m.features)
}

export interface RecordPrediction {
  /** The predicted class label (classification) or value (regression). */
  prediction: string | number
  /** Class probabilities by label (classification). */
  probabilities?: Record<string, number>
}

/** Predictions for records (column name → value), through the preprocess the model was trained with. */
export function predictRecords(spec: PreprocessSpec, m: LoadedModel, records: Record<string, unknown>[]): RecordPrediction[] {
  const F = spec.features.length
  if (F !== m.features) throw new Error(`the model reads ${m.features} features, the preprocess makes ${F}`)
  const x = new Float32Array(records.length * F)
  records.forEach((r, i) => x.set(transformRecord(spec, r), i * F))
  return describe(spec, m, predict(m, x, records.length), records.length)
}

/** Predictions for a batch of rows whose values follow `columnNames` (a silver batch). */
export function predictRows(spec: PreprocessSpec, m: LoadedModel, columnNames: string[], rows: unknown[][]): RecordPrediction[] {
  return describe(spec, m, predict(m, transformRows(spec, columnNames, rows), rows.length), rows.length)
}

function describe(spec: PreprocessSpec, m: LoadedModel, out: Float64Array, rows: number): RecordPrediction[] {
  const classes = spec.target.classes
  const res: RecordPrediction[] = []
  for (let i = 0; i < rows; i++) {
    if (!classes) {
      res.push({ prediction: out[i] })
      continue
    }
    const probs: Record<string, number> = {}
    let best = 0
    if (m.groups === 1) {
      probs[classes[0]] = 1 - out[i]
      probs[classes[1]] = out[i]
      best = out[i] >= 0.5 ? 1 : 0
    } else {
      for (let k = 0; k < m.groups; k++) {
        probs[classes[k]] = out[i * m.groups + k]
        if (out[i * m.groups + k] > out[i * m.groups + best]) best = k
      }
    }
    res.push({ prediction: classes[best], probabilities: probs })
  }
  return res
}
