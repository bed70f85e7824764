/*
  Gradient-boosted trees as plain typed arrays, read from XGBoost's own model files: the legacy binary format that
  the WASM trainer saves (and `xgboost.Booster().load_model()` opens), and the JSON format native XGBoost ≥ 1.0 saves
  (the external trainer's). Scoring (real time and batch), early stopping and TreeSHAP all walk these arrays, so one
  reading of the model serves every use; nothing here needs the WASM module.
*/

export type TreeObjective = 'binary:logistic' | 'multi:softprob' | 'multi:softmax' | 'reg:linear' | 'reg:squarederror'

export interface Tree {
  /** Child indexes, -1 at a leaf. */
  left: Int32Array
  right: Int32Array
  /** Split feature (index into the model's features), -1 at a leaf. */
  feature: Int32Array
  /** Split condition: `x < threshold` goes left. At a leaf, the leaf's value. */
  threshold: Float32Array
  /** Where a missing value goes: 1 = left. */
  defaultLeft: Uint8Array
  /** Sum of hessians of the training rows that reached the node (TreeSHAP's cover). */
  cover: Float32Array
}

export interface TreeEnsemble {
  objective: TreeObjective
  /** Margin every output starts from (already in margin space: logit for binary:logistic). */
  baseMargin: number
  numFeature: number
  /** Outputs per row: the number of classes for multi:*, else 1. */
  numGroups: number
  trees: Tree[]
  /** The output group (class) each tree adds to. */
  treeGroup: Int32Array
}

const OBJECTIVES = new Set<string>(['binary:logistic', 'multi:softprob', 'multi:softmax', 'reg:linear', 'reg:squarederror'])

// ---------------------------------------------------------------- the legacy binary format (XGBoost < 1.0)

const LEARNER_PARAM_BYTES = 136 // base_score f32, num_feature u32, num_class i32, contain_extra_attrs, contain_eval_metrics, reserved[29]
const GBTREE_PARAM_BYTES = 160 // num_trees, num_roots, num_feature, pad, num_pbuffer i64, num_output_group, size_leaf_vector, reserved[32]
const TREE_PARAM_BYTES = 148 // num_roots, num_nodes, num_deleted, max_depth, num_feature, size_leaf_vector, reserved[31]
// Then per node: parent i32, cleft i32, cright i32, sindex u32 (top bit: default left), info f32 (split condition or
// leaf value); then per node: loss_chg f32, sum_hess f32, base_weight f32, leaf_child_cnt i32.

/** Where each part of a legacy binary model sits, for truncation. */
interface LegacyLayout {
  gbtreeParamAt: number
  treeSpans: [number, number][]
  treeInfoAt: number
  end: number
}

class Reader {
  at = 0
  constructor(readonly view: DataView) {}
  need(n: number) {
    if (this.at + n > this.view.byteLength) throw new Error(`XGBoost model: truncated at byte ${this.at} (needs ${n} more)`)
  }
  i32() {
    this.need(4)
    const v = this.view.getInt32(this.at, true)
    this.at += 4
    return v
  }
  u32() {
    this.need(4)
    const v = this.view.getUint32(this.at, true)
    this.at += 4
    return v
  }
  f32() {
    this.need(4)
    const v = this.view.getFloat32(this.at, true)
    this.at += 4
    return v
  }
  u64() {
    this.need(8)
    const lo = this.view.getUint32(this.at, true)
    const hi = this.view.getUint32(this.at + 4, true)
    this.at += 8
    if (hi) throw new Error('XGBoost model: a length beyond 4 GiB')
    return lo
  }
  string() {
    const n = this.u64()
    this.need(n)
    const s = new TextDecoder().decode(new Uint8Array(this.view.buffer, this.view.byteOffset + this.at, n))
    this.at += n
    return s
  }
  skip(n: number) {
    this.need(n)
    this.at += n
  }
}

function parseLegacy(bytes: Uint8Array): { model: TreeEnsemble; layout: LegacyLayout } {
  const r = new Reader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  // Native XGBoost ≥ 1.0 writes "binf" and a different header (base_score as a probability): read its JSON instead.
  if (bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === 'binf') throw new Error('XGBoost model: a binary model of XGBoost ≥ 1.0; save it as JSON')
  const baseScore = r.f32()
  const numFeature = r.u32()
  const numClass = r.i32()
  r.skip(LEARNER_PARAM_BYTES - 12)
  const objective = r.string()
  const gbm = r.string()
  if (gbm !== 'gbtree') throw new Error(`XGBoost model: booster '${gbm}' is not supported (gbtree only)`)
  if (!OBJECTIVES.has(objective)) throw new Error(`XGBoost model: objective '${objective}' is not supported`)
  const gbtreeParamAt = r.at
  const numTrees = r.i32()
  const numRoots = r.i32()
  r.skip(4 + 4) // num_feature, pad
  r.skip(8) // num_pbuffer (0 in every model we read)
  const numOutputGroup = r.i32()
  const sizeLeafVector = r.i32()
  r.skip(GBTREE_PARAM_BYTES - 32)
  if (numRoots !== 1) throw new Error('XGBoost model: trees with several roots are not supported')
  if (sizeLeafVector !== 0) throw new Error('XGBoost model: leaf vectors are not supported')
  const trees: Tree[] = []
  const treeSpans: [number, number][] = []
  for (let t = 0; t < numTrees; t++) {
    const start = r.at
    r.skip(4) // num_roots
    const numNodes = r.i32()
    r.skip(TREE_PARAM_BYTES - 8)
    if (numNodes < 1 || numNodes > 1 << 24) throw new Error(`XGBoost model: tree ${t} has ${numNodes} nodes`)
    const tree: Tree = {
      left: new Int32Array(numNodes),
      right: new Int32Array(numNodes),
      feature: new Int32Array(numNodes),
      threshold: new Float32Array(numNodes),
      defaultLeft: new Uint8Array(numNodes),
      cover: new Float32Array(numNodes),
    }
    for (let n = 0; n < numNodes; n++) {
      r.skip(4) // parent
      const left = r.i32()
      const right = r.i32()
      const sindex = r.u32()
      const info = r.f32()
      tree.left[n] = left
      tree.right[n] = right
      tree.feature[n] = left === -1 ? -1 : sindex & 0x7fffffff
      tree.defaultLeft[n] = sindex >>> 31
      tree.threshold[n] = info
    }
    for (let n = 0; n < numNodes; n++) {
      r.skip(4) // loss_chg
      tree.cover[n] = r.f32()
      r.skip(8) // base_weight, leaf_child_cnt
    }
    checkTree(tree, numFeature, t)
    trees.push(tree)
    treeSpans.push([start, r.at])
  }
  const treeInfoAt = r.at
  const treeGroup = new Int32Array(numTrees)
  for (let t = 0; t < numTrees; t++) treeGroup[t] = r.i32()
  const numGroups = Math.max(1, numOutputGroup, numClass)
  return {
    model: { objective: objective as TreeObjective, baseMargin: baseScore, numFeature, numGroups, trees, treeGroup },
    layout: { gbtreeParamAt, treeSpans, treeInfoAt, end: r.at },
  }
}

function checkTree(tree: Tree, numFeature: number, t: number) {
  const n = tree.left.length
  for (let i = 0; i < n; i++) {
    const l = tree.left[i]
    if (l === -1) continue
    const r = tree.right[i]
    if (l <= i || r <= i || l >= n || r >= n) throw new Error(`XGBoost model: tree ${t} node ${i} has children out of order`)
    if (tree.feature[i] >= numFeature) throw new Error(`XGBoost model: tree ${t} splits on feature ${tree.feature[i]} of ${numFeature}`)
  }
}

/** Reads a model saved by the WASM trainer (XGBoost 0.7x's binary format). */
export function parseLegacyModel(bytes: Uint8Array): TreeEnsemble {
  return parseLegacy(bytes).model
}

/**
 * The same model with only its first `keep` trees (early stopping keeps the best round, not the last), as bytes in
 * the same format: the header with the new count, the trees, their groups, and whatever followed unchanged.
 */
export function truncateLegacyModel(bytes: Uint8Array, keep: number): Uint8Array {
  const { layout } = parseLegacy(bytes)
  const total = layout.treeSpans.length
  if (keep >= total) return bytes.slice()
  if (keep < 1) throw new Error('truncateLegacyModel: keep at least one tree')
  const treesEnd = layout.treeSpans[keep - 1][1]
  const firstTree = layout.treeSpans[0][0]
  const infoStart = layout.treeInfoAt
  const parts = [bytes.subarray(0, firstTree), bytes.subarray(firstTree, treesEnd), bytes.subarray(infoStart, infoStart + keep * 4), bytes.subarray(layout.end)]
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  new DataView(out.buffer).setInt32(layout.gbtreeParamAt, keep, true)
  return out
}

// ---------------------------------------------------------------- native XGBoost's JSON model (≥ 1.0)

interface JsonTree {
  left_children: number[]
  right_children: number[]
  split_indices: number[]
  split_conditions: number[]
  default_left: (number | boolean)[]
  sum_hessian: number[]
  base_weights?: number[]
}

/** Reads `booster.save_model('model.json')` of native XGBoost 1.x (gbtree). */
export function parseJsonModel(doc: unknown): TreeEnsemble {
  const d = doc as {
    learner?: {
      learner_model_param?: { base_score?: string; num_feature?: string; num_class?: string }
      objective?: { name?: string }
      gradient_booster?: { name?: string; model?: { trees?: JsonTree[]; tree_info?: number[] } }
    }
  }
  const learner = d?.learner
  if (!learner?.gradient_booster?.model?.trees) throw new Error('XGBoost JSON model: learner.gradient_booster.model.trees is missing')
  if (learner.gradient_booster.name !== 'gbtree') throw new Error(`XGBoost JSON model: booster '${learner.gradient_booster.name}' is not supported`)
  const objective = learner.objective?.name ?? ''
  if (!OBJECTIVES.has(objective)) throw new Error(`XGBoost JSON model: objective '${objective}' is not supported`)
  const numFeature = Number(learner.learner_model_param?.num_feature ?? 0)
  const numClass = Number(learner.learner_model_param?.num_class ?? 0)
  const baseScore = Number(learner.learner_model_param?.base_score ?? 0.5)
  // JSON models keep base_score as a probability for logistic objectives.
  const baseMargin = objective === 'binary:logistic' ? Math.log(baseScore / (1 - baseScore)) : baseScore
  const trees = learner.gradient_booster.model.trees.map((jt, t) => {
    const n = jt.left_children.length
    const tree: Tree = {
      left: Int32Array.from(jt.left_children),
      right: Int32Array.from(jt.right_children),
      feature: Int32Array.from(jt.split_indices, (f, i) => (jt.left_children[i] === -1 ? -1 : f)),
      threshold: Float32Array.from(jt.split_conditions),
      defaultLeft: Uint8Array.from(jt.default_left, (v) => (v ? 1 : 0)),
      cover: Float32Array.from(jt.sum_hessian),
    }
    if (tree.right.length !== n || tree.threshold.length !== n) throw new Error(`XGBoost JSON model: tree ${t} has arrays of different lengths`)
    checkTree(tree, numFeature, t)
    return tree
  })
  const treeGroup = Int32Array.from(learner.gradient_booster.model.tree_info ?? trees.map(() => 0))
  return { objective: objective as TreeObjective, baseMargin, numFeature, numGroups: Math.max(1, numClass), trees, treeGroup }
}

// ---------------------------------------------------------------- scoring

/** The leaf a row reaches in a tree (row = the features of one row, NaN = missing). */
export function leafOf(tree: Tree, row: Float32Array, offset = 0): number {
  const { left, right, feature, threshold, defaultLeft } = tree
  let n = 0
  while (left[n] !== -1) {
    const x = row[offset + feature[n]]
    n = x !== x ? (defaultLeft[n] ? left[n] : right[n]) : x < threshold[n] ? left[n] : right[n]
  }
  return n
}

/**
 * Raw margins of `rows` rows of a row-major matrix with `cols` columns: rows × numGroups values. `trees` limits the
 * count (the first k trees). `out` may carry margins to add to (early stopping adds one tree at a time).
 */
export function predictMargins(model: TreeEnsemble, x: Float32Array, rows: number, cols: number, opts: { trees?: number; from?: number; out?: Float64Array } = {}) {
  const g = model.numGroups
  const from = opts.from ?? 0
  const to = Math.min(opts.trees ?? model.trees.length, model.trees.length)
  let out = opts.out
  if (!out) {
    out = new Float64Array(rows * g)
    out.fill(model.baseMargin)
  }
  for (let t = from; t < to; t++) {
    const tree = model.trees[t]
    const group = model.treeGroup[t]
    const value = tree.threshold
    for (let i = 0; i < rows; i++) out[i * g + group] += value[leafOf(tree, x, i * cols)]
  }
  return out
}

// ---------------------------------------------------------------- generated trees (scoring, decision 051)

/** One tree as code: the leaf value a row reaches, the row at `at` in a row-major float32 matrix. */
type TreeFn = (x: Float32Array, at: number) => number

/**
 * Trees beyond these sizes keep the array walk: V8 does not optimise a function past ~60 KB of bytecode, and nested
 * conditionals deeper than this are slow to parse. A depth-6…10 tree (127…2,047 nodes) is well inside both.
 */
export const GENERATED_TREE_LIMITS = { nodes: 4095, depth: 48 }

/** A number as a JavaScript literal that reads back as the same double (-0, NaN and the infinities included). */
function literal(v: number): string {
  if (Object.is(v, -0)) return '-0'
  return String(v)
}

/**
 * A tree as a function of nested comparisons with its thresholds and leaf values as constants, so the JIT compiles
 * it to branches on the row's values instead of loads of child indexes, features and thresholds per node (≈ 2–3× the
 * array walk on a 196-tree depth-6 model). Same answer as `leafOf`, bit for bit: each threshold and leaf value is a
 * float32 written as the exact decimal of its double; `x < t` goes left, a missing value (NaN, false in every
 * comparison) goes the default way — `x >= t ? right : left` where missing goes left. The code holds only numbers
 * from the typed arrays, never text from the model file. Null when the tree is past GENERATED_TREE_LIMITS.
 */
export function generateTree(tree: Tree, limits = GENERATED_TREE_LIMITS): TreeFn | null {
  const { left, right, feature, threshold, defaultLeft } = tree
  if (left.length > limits.nodes) return null
  const emit = (n: number, depth: number): string | null => {
    if (left[n] === -1) return literal(threshold[n])
    if (depth >= limits.depth) return null
    const a = emit(left[n], depth + 1)
    const b = a === null ? null : emit(right[n], depth + 1)
    if (a === null || b === null) return null
    const v = `x[at+${feature[n]}]`
    return defaultLeft[n] ? `(${v}>=${literal(threshold[n])}?${b}:${a})` : `(${v}<${literal(threshold[n])}?${a}:${b})`
  }
  const body = emit(0, 0)
  if (body === null) return null
  return new Function('x', 'at', `return ${body}`) as TreeFn
}

/** Generated trees per parsed model (the model cache keeps the model, so a model is compiled once per process). */
const generated = new WeakMap<TreeEnsemble, (TreeFn | null)[]>()

function generatedTrees(model: TreeEnsemble): (TreeFn | null)[] {
  let fns = generated.get(model)
  if (!fns) {
    fns = model.trees.map((t) => generateTree(t))
    generated.set(model, fns)
  }
  return fns
}

/**
 * predictMargins for scoring (inference, real time and batch): the same margins, bit for bit, from the generated
 * trees (`generateTree`), the array walk for a tree too large to generate. Pays the code generation once per model
 * (about a millisecond a tree), so training's round-by-round early stopping keeps `predictMargins`.
 */
export function scoreMargins(model: TreeEnsemble, x: Float32Array, rows: number, cols: number): Float64Array {
  const g = model.numGroups
  const fns = generatedTrees(model)
  const out = new Float64Array(rows * g)
  out.fill(model.baseMargin)
  for (let t = 0; t < fns.length; t++) {
    const fn = fns[t]
    const group = model.treeGroup[t]
    if (fn === null) {
      const tree = model.trees[t]
      const value = tree.threshold
      for (let i = 0; i < rows; i++) out[i * g + group] += value[leafOf(tree, x, i * cols)]
    } else if (g === 1) {
      for (let i = 0; i < rows; i++) out[i] += fn(x, i * cols)
    } else {
      for (let i = 0; i < rows; i++) out[i * g + group] += fn(x, i * cols)
    }
  }
  return out
}

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

/** Margins → what the objective predicts: probabilities (rows × groups, softmax for multi:*), or values. */
export function marginsToOutputs(objective: TreeObjective, margins: Float64Array, groups: number): Float64Array {
  if (objective === 'binary:logistic') return margins.map(sigmoid)
  if (objective.startsWith('multi:')) return softmaxRows(margins, groups)
  return margins.slice()
}

export function softmaxRows(margins: Float64Array, groups: number): Float64Array {
  const out = new Float64Array(margins.length)
  for (let i = 0; i < margins.length; i += groups) {
    let max = -Infinity
    for (let k = 0; k < groups; k++) max = Math.max(max, margins[i + k])
    let sum = 0
    for (let k = 0; k < groups; k++) sum += out[i + k] = Math.exp(margins[i + k] - max)
    for (let k = 0; k < groups; k++) out[i + k] /= sum
  }
  return out
}
