import { nodeMeans, type ShapValues } from './tree-shap.ts'
import type { Tree, TreeEnsemble } from './tree-model.ts'

/*
  Exact TreeSHAP with per-leaf tables (the idea of Fast TreeSHAP v2: Yang, "Fast TreeSHAP: Accelerating SHAP Value
  Computation for Trees", 2021). The same values as tree-shap.ts (algorithm 2), computed another way.

  A leaf l with value v and the m distinct features U on its path adds to feature i ∈ U

      φ_i += v · Σ_{S ⊆ U∖{i}} |S|! (m − |S| − 1)! / m! · Π_{j∈S} o_j · Π_{j∈U∖S∖{i}} z_j · (o_i − z_i)

  where z_j is the share of the training cover that follows the path through the splits on j, and o_j ∈ {0, 1} says
  whether the row follows the path at every split on j. The row enters only through the bits o, so for each leaf
  and each of its 2^m bit patterns the m contributions are computed once, when the model is loaded; a row then costs
  one comparison per split node and, per leaf, its pattern (one bit per split on the path) and m additions:
  O(trees · leaves · depth) instead of O(trees · leaves · depth²) with a far smaller constant.

  The tables take Σ_leaves 2^m · m numbers (a 200-tree depth-6 model: about 5M, 40 MB); `fastShapTables` returns
  null past MAX_TABLE_ENTRIES and callers keep the recursive algorithm.
*/

const MAX_TABLE_ENTRIES = 12_000_000

interface TreeTable {
  tree: Tree
  /** Expected value of the tree (its root's node mean), the bias it adds. */
  mean: number
  /** Per leaf: splits on its path [from, to) into the split arrays; features [from, to) into leafFeature; table offset. */
  splitFrom: Int32Array
  splitTo: Int32Array
  featureFrom: Int32Array
  tableAt: Int32Array
  /** Per split on a leaf's path: the node, the bit of its feature in the leaf's pattern, whether the path goes left. */
  splitNode: Int32Array
  splitBit: Int32Array
  splitLeft: Uint8Array
  /** The distinct features of each leaf's path, in path order (bit k = leafFeature[featureFrom + k]). */
  leafFeature: Int32Array
  /** Per leaf, per pattern B (0 … 2^m − 1), the m contributions: table[tableAt + B·m + k]. */
  table: Float64Array
}

export interface FastShapTables {
  trees: TreeTable[]
  treeGroup: Int32Array
  baseMargin: number
  numGroups: number
  /** Split nodes of the largest tree: the per-row scratch of "goes left" flags. */
  maxNodes: number
}

/** Shapley weights |S|! (m − |S| − 1)! / m! for s = 0 … m − 1. */
function shapleyWeights(m: number): Float64Array {
  const f = [1]
  for (let i = 1; i <= m; i++) f[i] = f[i - 1] * i
  const w = new Float64Array(m)
  for (let s = 0; s < m; s++) w[s] = (f[s] * f[m - s - 1]) / f[m]
  return w
}

function buildTree(tree: Tree): TreeTable | 'too-big' {
  const n = tree.left.length
  const mean = nodeMeans(tree)[0]
  // Each leaf's path: walk from the root keeping the path's splits.
  const leafPaths: { leaf: number; path: { node: number; left: boolean }[] }[] = []
  const stack: { node: number; path: { node: number; left: boolean }[] }[] = [{ node: 0, path: [] }]
  while (stack.length) {
    const { node, path } = stack.pop()!
    const l = tree.left[node]
    if (l === -1) {
      leafPaths.push({ leaf: node, path })
      continue
    }
    stack.push({ node: tree.right[node], path: [...path, { node, left: false }] })
    stack.push({ node: l, path: [...path, { node, left: true }] })
  }
  let splits = 0
  let features = 0
  let entries = 0
  const perLeaf = leafPaths.map(({ leaf, path }) => {
    const order: number[] = []
    const zero = new Map<number, number>()
    for (const s of path) {
      const f = tree.feature[s.node]
      const child = s.left ? tree.left[s.node] : tree.right[s.node]
      const w = tree.cover[s.node]
      const share = w > 0 ? tree.cover[child] / w : 0.5
      if (!zero.has(f)) {
        order.push(f)
        zero.set(f, 1)
      }
      zero.set(f, zero.get(f)! * share)
    }
    splits += path.length
    features += order.length
    entries += (1 << order.length) * order.length
    return { leaf, path, order, zero: order.map((f) => zero.get(f)!) }
  })
  if (entries > MAX_TABLE_ENTRIES) return 'too-big'
  const L = perLeaf.length
  const t: TreeTable = {
    tree,
    mean,
    splitFrom: new Int32Array(L),
    splitTo: new Int32Array(L),
    featureFrom: new Int32Array(L + 1),
    tableAt: new Int32Array(L),
    splitNode: new Int32Array(splits),
    splitBit: new Int32Array(splits),
    splitLeft: new Uint8Array(splits),
    leafFeature: new Int32Array(features),
    table: new Float64Array(entries),
  }
  let si = 0
  let fi = 0
  let ti = 0
  const poly = new Float64Array(n + 2)
  perLeaf.forEach(({ leaf, path, order, zero }, li) => {
    const m = order.length
    t.splitFrom[li] = si
    for (const s of path) {
      t.splitNode[si] = s.node
      t.splitBit[si] = order.indexOf(tree.feature[s.node])
      t.splitLeft[si] = s.left ? 1 : 0
      si++
    }
    t.splitTo[li] = si
    t.featureFrom[li] = fi
    for (const f of order) t.leafFeature[fi++] = f
    t.tableAt[li] = ti
    const v = tree.threshold[leaf]
    const w = shapleyWeights(m)
    for (let B = 0; B < 1 << m; B++) {
      for (let i = 0; i < m; i++) {
        // coefficients of Π_{j≠i} (z_j + o_j·t): poly[k] = Σ over subsets S of size k of Π_{S} o · Π_{rest} z
        poly.fill(0, 0, m)
        poly[0] = 1
        let deg = 0
        for (let j = 0; j < m; j++) {
          if (j === i) continue
          const o = (B >> j) & 1
          const z = zero[j]
          for (let k = deg + 1; k >= 1; k--) poly[k] = poly[k] * z + poly[k - 1] * o
          poly[0] *= z
          deg++
        }
        let sum = 0
        for (let k = 0; k < m; k++) sum += w[k] * poly[k]
        t.table[ti + B * m + i] = v * sum * (((B >> i) & 1) - zero[i])
      }
    }
    ti += (1 << m) * m
  })
  t.featureFrom[L] = fi
  return t
}

/** The tables of a model's trees, or null when they would be too large (deep trees): use treeShap then. */
export function fastShapTables(model: TreeEnsemble): FastShapTables | null {
  const trees: TreeTable[] = []
  let total = 0
  let maxNodes = 1
  for (const tree of model.trees) {
    const t = buildTree(tree)
    if (t === 'too-big') return null
    total += t.table.length
    if (total > MAX_TABLE_ENTRIES) return null
    trees.push(t)
    maxNodes = Math.max(maxNodes, tree.left.length)
  }
  return { trees, treeGroup: model.treeGroup, baseMargin: model.baseMargin, numGroups: model.numGroups, maxNodes }
}

const BLOCK = 256

/**
 * SHAP values of the margin for `rows` rows of a row-major matrix (NaN = missing): treeShap's layout and values.
 * Trees outside, blocks of rows inside: a leaf's table (at most 2^m · m numbers) is read once per block, not once per
 * row, which keeps the tables' reads in cache (row by row they were most of the time).
 */
export function fastTreeShap(tables: FastShapTables, x: Float32Array, rows: number, cols: number): ShapValues {
  const g = tables.numGroups
  const width = cols + 1
  const values = new Float64Array(rows * g * width)
  for (let r = 0; r < rows; r++) for (let k = 0; k < g; k++) values[(r * g + k) * width + cols] = tables.baseMargin
  const nodes = tables.maxNodes
  const goesLeft = new Uint8Array(Math.min(rows, BLOCK) * nodes)
  for (let ti = 0; ti < tables.trees.length; ti++) {
    const t = tables.trees[ti]
    const group = tables.treeGroup[ti]
    for (let r = 0; r < rows; r++) values[(r * g + group) * width + cols] += t.mean
    const { left, feature, threshold, defaultLeft } = t.tree
    if (left[0] === -1) continue
    const { splitFrom, splitTo, splitNode, splitBit, splitLeft, featureFrom, leafFeature, tableAt, table } = t
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const r1 = Math.min(rows, r0 + BLOCK)
      // which way each row of the block goes at every split node
      for (let r = r0; r < r1; r++) {
        const rowAt = r * cols
        const at = (r - r0) * nodes
        for (let n = 0; n < left.length; n++) {
          if (left[n] === -1) continue
          const v = x[rowAt + feature[n]]
          goesLeft[at + n] = v !== v ? defaultLeft[n] : v < threshold[n] ? 1 : 0
        }
      }
      for (let li = 0; li < splitFrom.length; li++) {
        const f0 = featureFrom[li]
        const m = featureFrom[li + 1] - f0
        const s0 = splitFrom[li]
        const s1 = splitTo[li]
        for (let r = r0; r < r1; r++) {
          const at = (r - r0) * nodes
          // the pattern: bit k set when the row follows the path at every split on the leaf's k-th feature
          let B = (1 << m) - 1
          for (let s = s0; s < s1; s++) if (goesLeft[at + splitNode[s]] !== splitLeft[s]) B &= ~(1 << splitBit[s])
          const tAt = tableAt[li] + B * m
          const phiAt = (r * g + group) * width
          for (let k = 0; k < m; k++) values[phiAt + leafFeature[f0 + k]] += table[tAt + k]
        }
      }
    }
  }
  return { rows, width, groups: g, values }
}
