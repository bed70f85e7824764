import { describe, expect, it } from 'vitest'
import { fastShapTables, fastTreeShap } from './fast-tree-shap.ts'
import { syntheticMatrix } from './synthetic.ts'
import { predictMargins, type Tree, type TreeEnsemble } from './tree-model.ts'
import { treeShap } from './tree-shap.ts'
import { boost, DEFAULT_BOOSTING, type Task } from './xgboost-train.ts'
import { XGBoostRuntime } from './xgboost-wasm.ts'

/* The table form of TreeSHAP against the recursive one (tree-shap.ts, itself checked against native pred_contribs in
   tree-model.test.ts): the same values for every row, feature and group, and local accuracy. */

const COLS = 8

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>) {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

async function trained(task: Task, rounds: number, depth: number) {
  const rows = 2000
  const { x } = syntheticMatrix({ rows, cols: COLS, kind: task.kind, classes: task.classes, seed: 11, missing: 0.08 })
  const { y } = syntheticMatrix({ rows, cols: COLS, kind: task.kind, classes: task.classes, seed: 11, missing: 0.08 })
  const rt = await XGBoostRuntime.create()
  const matrix = rt.writeMatrix(rows, COLS, (v) => v.set(x))
  const out = boost(rt, { matrix, rows, cols: COLS, labels: Float32Array.from(y) }, task, { ...DEFAULT_BOOSTING, n_estimators: rounds, max_depth: depth })
  rt.free(matrix)
  return { x, rows, model: out.model }
}

/** A random tree of the given depth whose splits reuse few features (so paths repeat them), with uneven covers. */
function randomTree(depth: number, features: number, seed: number): Tree {
  let s = seed
  const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
  const n = 2 ** (depth + 1) - 1
  const t: Tree = { left: new Int32Array(n), right: new Int32Array(n), feature: new Int32Array(n), threshold: new Float32Array(n), defaultLeft: new Uint8Array(n), cover: new Float32Array(n) }
  for (let i = n - 1; i >= 0; i--) {
    if (2 * i + 2 < n) {
      t.left[i] = 2 * i + 1
      t.right[i] = 2 * i + 2
      t.feature[i] = Math.floor(r() * features)
      t.threshold[i] = r()
      t.defaultLeft[i] = r() < 0.5 ? 1 : 0
      t.cover[i] = t.cover[2 * i + 1] + t.cover[2 * i + 2]
    } else {
      t.left[i] = t.right[i] = t.feature[i] = -1
      t.threshold[i] = r() - 0.5
      t.cover[i] = 1 + Math.floor(r() ** 3 * 200)
    }
  }
  return t
}

function check(model: TreeEnsemble, x: Float32Array, rows: number, cols: number) {
  const tables = fastShapTables(model)
  expect(tables).not.toBeNull()
  const fast = fastTreeShap(tables!, x, rows, cols)
  const slow = treeShap(model, x, rows, cols)
  expect(fast.width).toBe(slow.width)
  expect(fast.groups).toBe(slow.groups)
  expect(maxDiff(fast.values, slow.values)).toBeLessThan(1e-9)
  // local accuracy: bias + Σ contributions = margin, per row and group
  const margins = predictMargins(model, x, rows, cols)
  const sums = new Float64Array(rows * fast.groups)
  for (let i = 0; i < rows * fast.groups; i++) for (let j = 0; j < fast.width; j++) sums[i] += fast.values[i * fast.width + j]
  expect(maxDiff(sums, margins)).toBeLessThan(1e-5)
}

describe('fast TreeSHAP (per-leaf tables)', () => {
  it.each([
    [{ kind: 'binary', classes: 2 } as Task, 40, 6],
    [{ kind: 'multiclass', classes: 3 } as Task, 12, 5],
    [{ kind: 'regression', classes: 0 } as Task, 30, 4],
  ])('%o: the values of the recursive TreeSHAP on trained trees with missing values', async (task, rounds, depth) => {
    const { x, model } = await trained(task, rounds, depth)
    check(model, x, 300, COLS)
  })

  it('random trees that split on one feature several times along a path, with very uneven covers and NaN rows', () => {
    const trees = Array.from({ length: 12 }, (_, i) => randomTree(7, 3, 100 + i))
    const model: TreeEnsemble = { objective: 'reg:squarederror', baseMargin: 0.25, numFeature: 3, numGroups: 1, trees, treeGroup: new Int32Array(trees.length) }
    let s = 9
    const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
    const rows = 400
    const x = Float32Array.from({ length: rows * 3 }, () => (r() < 0.1 ? NaN : r()))
    check(model, x, rows, 3)
  })

  it('declines models whose tables would be too large (callers keep the recursive algorithm)', () => {
    const trees = Array.from({ length: 3 }, (_, i) => randomTree(16, 40, i))
    expect(fastShapTables({ objective: 'reg:squarederror', baseMargin: 0, numFeature: 40, numGroups: 1, trees, treeGroup: new Int32Array(3) })).toBeNull()
  })
})
