import { leafOf, type Tree, type TreeEnsemble } from './tree-model.ts'

/*
  TreeSHAP (Lundberg, Erion & Lee, "Consistent individualized feature attribution for tree ensembles", algorithm 2):
  exact Shapley values of a tree ensemble's margin in O(trees · leaves · depth²) per row, the same algorithm as
  XGBoost's `pred_contribs=True`. Local accuracy holds by construction: for every row and output group,
  bias + Σ contributions = the model's margin.
*/

/** Expected value of each node: leaf values weighted by cover, bottom up (XGBoost's node mean values). */
export function nodeMeans(tree: Tree): Float64Array {
  const n = tree.left.length
  const mean = new Float64Array(n)
  // Children always come after their parent, so a reverse sweep sees children first.
  for (let i = n - 1; i >= 0; i--) {
    const l = tree.left[i]
    if (l === -1) mean[i] = tree.threshold[i]
    else {
      const r = tree.right[i]
      const c = tree.cover[l] + tree.cover[r]
      mean[i] = c > 0 ? (mean[l] * tree.cover[l] + mean[r] * tree.cover[r]) / c : (mean[l] + mean[r]) / 2
    }
  }
  return mean
}

function depthOf(tree: Tree): number {
  const depth = new Int32Array(tree.left.length)
  let max = 0
  for (let i = 0; i < tree.left.length; i++) {
    const l = tree.left[i]
    if (l === -1) continue
    depth[l] = depth[tree.right[i]] = depth[i] + 1
    max = Math.max(max, depth[i] + 1)
  }
  return max
}

/** Scratch space of the unique-path arrays for trees up to a depth. */
class PathBuffer {
  feature: Int32Array
  zero: Float64Array
  one: Float64Array
  weight: Float64Array
  constructor(maxDepth: number) {
    // Each node's path starts after its parent's: offsets sum to about (depth + 2)(depth + 3) / 2.
    const d = maxDepth + 4
    const size = (d * (d + 1)) / 2
    this.feature = new Int32Array(size)
    this.zero = new Float64Array(size)
    this.one = new Float64Array(size)
    this.weight = new Float64Array(size)
  }
}

function extendPath(p: PathBuffer, at: number, depth: number, zero: number, one: number, feature: number) {
  const { weight } = p
  p.feature[at + depth] = feature
  p.zero[at + depth] = zero
  p.one[at + depth] = one
  weight[at + depth] = depth === 0 ? 1 : 0
  for (let i = depth - 1; i >= 0; i--) {
    weight[at + i + 1] += (one * weight[at + i] * (i + 1)) / (depth + 1)
    weight[at + i] = (zero * weight[at + i] * (depth - i)) / (depth + 1)
  }
}

function unwindPath(p: PathBuffer, at: number, depth: number, index: number) {
  const { weight } = p
  const one = p.one[at + index]
  const zero = p.zero[at + index]
  let next = weight[at + depth]
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = weight[at + i]
      weight[at + i] = (next * (depth + 1)) / ((i + 1) * one)
      next = tmp - (weight[at + i] * zero * (depth - i)) / (depth + 1)
    } else {
      weight[at + i] = (weight[at + i] * (depth + 1)) / (zero * (depth - i))
    }
  }
  for (let i = index; i < depth; i++) {
    p.feature[at + i] = p.feature[at + i + 1]
    p.zero[at + i] = p.zero[at + i + 1]
    p.one[at + i] = p.one[at + i + 1]
  }
}

function unwoundPathSum(p: PathBuffer, at: number, depth: number, index: number) {
  const { weight } = p
  const one = p.one[at + index]
  const zero = p.zero[at + index]
  let next = weight[at + depth]
  let total = 0
  if (one !== 0) {
    for (let i = depth - 1; i >= 0; i--) {
      const tmp = next / ((i + 1) * one)
      total += tmp
      next = weight[at + i] - tmp * zero * (depth - i)
    }
  } else {
    for (let i = depth - 1; i >= 0; i--) total += weight[at + i] / (zero * (depth - i))
  }
  return total * (depth + 1)
}

function recurse(
  tree: Tree,
  row: ArrayLike<number>,
  rowAt: number,
  phi: Float64Array,
  phiAt: number,
  p: PathBuffer,
  node: number,
  parentAt: number,
  depth: number,
  parentZero: number,
  parentOne: number,
  parentFeature: number,
) {
  // This node's path starts right after its parent's (depth + 1 elements).
  const at = parentAt + depth + 1
  // A plain loop: the paths are a few elements long, where four copyWithin calls cost more than the copying.
  const { feature, zero, one, weight } = p
  for (let i = 0; i <= depth; i++) {
    feature[at + i] = feature[parentAt + i]
    zero[at + i] = zero[parentAt + i]
    one[at + i] = one[parentAt + i]
    weight[at + i] = weight[parentAt + i]
  }
  extendPath(p, at, depth, parentZero, parentOne, parentFeature)
  const left = tree.left[node]
  if (left === -1) {
    const value = tree.threshold[node]
    for (let i = 1; i <= depth; i++) {
      const w = unwoundPathSum(p, at, depth, i)
      phi[phiAt + p.feature[at + i]] += w * (p.one[at + i] - p.zero[at + i]) * value
    }
    return
  }
  const right = tree.right[node]
  const split = tree.feature[node]
  const x = row[rowAt + split]
  const goesLeft = x !== x ? tree.defaultLeft[node] === 1 : x < tree.threshold[node]
  const hot = goesLeft ? left : right
  const cold = goesLeft ? right : left
  const w = tree.cover[node]
  const hotZero = w > 0 ? tree.cover[hot] / w : 0.5
  const coldZero = w > 0 ? tree.cover[cold] / w : 0.5
  let incomingZero = 1
  let incomingOne = 1
  // A feature already on the path: undo that split so this one is counted once.
  let index = 0
  for (; index <= depth; index++) if (p.feature[at + index] === split) break
  if (index !== depth + 1) {
    incomingZero = p.zero[at + index]
    incomingOne = p.one[at + index]
    unwindPath(p, at, depth, index)
    depth -= 1
  }
  recurse(tree, row, rowAt, phi, phiAt, p, hot, at, depth + 1, hotZero * incomingZero, incomingOne, split)
  recurse(tree, row, rowAt, phi, phiAt, p, cold, at, depth + 1, coldZero * incomingZero, 0, split)
}

export interface ShapValues {
  rows: number
  /** Features + 1: the last column of each row and group is the bias (expected margin). */
  width: number
  groups: number
  /** rows × groups × width, row-major: values[(i * groups + g) * width + j]. */
  values: Float64Array
}

/** SHAP values of the margin for `rows` rows of a row-major matrix (NaN = missing). */
export function treeShap(model: TreeEnsemble, x: Float32Array, rows: number, cols: number, opts: { trees?: number } = {}): ShapValues {
  const nTrees = Math.min(opts.trees ?? model.trees.length, model.trees.length)
  const g = model.numGroups
  const width = cols + 1
  const values = new Float64Array(rows * g * width)
  const means = model.trees.slice(0, nTrees).map(nodeMeans)
  const maxDepth = model.trees.slice(0, nTrees).reduce((m, t) => Math.max(m, depthOf(t)), 0)
  const p = new PathBuffer(maxDepth)
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < g; k++) values[(i * g + k) * width + cols] = model.baseMargin
    for (let t = 0; t < nTrees; t++) {
      const tree = model.trees[t]
      const phiAt = (i * g + model.treeGroup[t]) * width
      values[phiAt + cols] += means[t][0]
      if (tree.left[0] === -1) continue
      recurse(tree, x, i * cols, values, phiAt, p, 0, 0, 0, 1, 1, -1)
    }
  }
  return { rows, width, groups: g, values }
}

/** The leaf each row reaches in each tree, for checks (rows × trees). */
export function leaves(model: TreeEnsemble, x: Float32Array, rows: number, cols: number) {
  const out = new Int32Array(rows * model.trees.length)
  for (let i = 0; i < rows; i++) for (let t = 0; t < model.trees.length; t++) out[i * model.trees.length + t] = leafOf(model.trees[t], x, i * cols)
  return out
}
