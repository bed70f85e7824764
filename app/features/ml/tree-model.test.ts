import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pythonMissing, runPython, scratchDir, skipReason, writeF32 } from '#tests/support/python.ts'
import { syntheticMatrix } from './synthetic.ts'
import { generateTree, marginsToOutputs, parseLegacyModel, predictMargins, scoreMargins, truncateLegacyModel, type Tree, type TreeEnsemble } from './tree-model.ts'
import { treeShap } from './tree-shap.ts'
import { boost, DEFAULT_BOOSTING, type Task } from './xgboost-train.ts'
import { XGBoostRuntime } from './xgboost-wasm.ts'

const ROWS = 3000
const COLS = 6

async function trained(task: Task, rounds: number) {
  const { x, y } = syntheticMatrix({ rows: ROWS, cols: COLS, kind: task.kind, classes: task.classes, seed: 7, missing: 0.05 })
  const rt = await XGBoostRuntime.create()
  const matrix = rt.writeMatrix(ROWS, COLS, (v) => v.set(x))
  const out = boost(rt, { matrix, rows: ROWS, cols: COLS, labels: Float32Array.from(y) }, task, { ...DEFAULT_BOOSTING, n_estimators: rounds, max_depth: 4 })
  rt.free(matrix)
  return { rt, x, y, ...out }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>) {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

function shapSums(model: TreeEnsemble, x: Float32Array, rows: number) {
  const s = treeShap(model, x, rows, COLS)
  const sums = new Float64Array(rows * s.groups)
  for (let i = 0; i < rows * s.groups; i++) for (let j = 0; j < s.width; j++) sums[i] += s.values[i * s.width + j]
  return { s, sums }
}

describe('legacy binary model → trees', () => {
  it('reads the trees and predicts what the WASM booster predicts (binary, with missing values)', async () => {
    const { rt, x, bytes, model } = await trained({ kind: 'binary', classes: 2 }, 30)
    expect(model.objective).toBe('binary:logistic')
    expect(model.trees.length).toBe(30)
    expect(model.numFeature).toBe(COLS)
    const ours = marginsToOutputs(model.objective, predictMargins(model, x, 200, COLS), 1)
    const booster = rt.loadModel(bytes, COLS)
    const theirs = Array.from({ length: 200 }, (_, i) => booster.predictOne(x.subarray(i * COLS, (i + 1) * COLS))[0])
    booster.free()
    expect(maxDiff(ours, theirs)).toBeLessThan(1e-6)
  })

  it('multiclass: one tree per class per round, softmax of the margins', async () => {
    const { rt, x, bytes, model } = await trained({ kind: 'multiclass', classes: 3 }, 10)
    expect(model.numGroups).toBe(3)
    expect(model.trees.length).toBe(30)
    expect(Array.from(model.treeGroup.slice(0, 6))).toEqual([0, 1, 2, 0, 1, 2])
    const ours = marginsToOutputs(model.objective, predictMargins(model, x, 100, COLS), 3)
    const booster = rt.loadModel(bytes, COLS)
    const theirs = Array.from({ length: 100 }, (_, i) => Array.from(booster.predictOne(x.subarray(i * COLS, (i + 1) * COLS), 3))).flat()
    booster.free()
    expect(maxDiff(ours, theirs)).toBeLessThan(1e-6)
  })

  it('regression: margins are the predictions, starting from base_score = mean target', async () => {
    const { rt, x, y, bytes, model } = await trained({ kind: 'regression', classes: 0 }, 20)
    const mean = y.reduce((s, v) => s + v, 0) / y.length
    expect(model.baseMargin).toBeCloseTo(mean, 4)
    const booster = rt.loadModel(bytes, COLS)
    const theirs = Array.from({ length: 100 }, (_, i) => booster.predictOne(x.subarray(i * COLS, (i + 1) * COLS))[0])
    booster.free()
    expect(maxDiff(predictMargins(model, x, 100, COLS), theirs)).toBeLessThan(1e-4)
  })

  it('truncation keeps the first k trees and stays a valid model file', async () => {
    const { rt, x, bytes, model } = await trained({ kind: 'binary', classes: 2 }, 12)
    const cut = truncateLegacyModel(bytes, 5)
    const short = parseLegacyModel(cut)
    expect(short.trees.length).toBe(5)
    expect(maxDiff(predictMargins(short, x, 300, COLS), predictMargins(model, x, 300, COLS, { trees: 5 }))).toBe(0)
    const booster = rt.loadModel(cut, COLS)
    const p = booster.predictOne(x.subarray(0, COLS))[0]
    booster.free()
    expect(p).toBeCloseTo(marginsToOutputs(short.objective, predictMargins(short, x, 1, COLS), 1)[0], 6)
  })

  it('refuses a real -1 in the training matrix (the trainer would read it as missing)', async () => {
    const rt = await XGBoostRuntime.create()
    expect(() => rt.writeMatrix(2, 2, (v) => v.set([0, 1, -1, 2]))).toThrow(/real -1/)
  })
})

describe('generated trees (scoreMargins)', () => {
  it('give the array walk\'s margins bit for bit: binary, multiclass and regression, with missing values', async () => {
    for (const task of [{ kind: 'binary', classes: 2 }, { kind: 'multiclass', classes: 3 }, { kind: 'regression', classes: 0 }] as Task[]) {
      const { x, model } = await trained(task, 12)
      const walk = predictMargins(model, x, ROWS, COLS)
      const generated = scoreMargins(model, x, ROWS, COLS)
      expect(generated.length).toBe(walk.length)
      for (let i = 0; i < walk.length; i++) if (generated[i] !== walk[i]) expect.fail(`${task.kind} row ${i}: ${generated[i]} ≠ ${walk[i]}`)
    }
  })

  it('default directions, thresholds at the row value, -0 and infinite leaves, and a tree past the limits (array walk)', () => {
    // node 0: f0 < 0.5, missing → right; node 1: f1 < -1.25, missing → left; node 2: f1 < 2, missing → left.
    const tree: Tree = {
      left: Int32Array.from([1, 3, 5, -1, -1, -1, -1]),
      right: Int32Array.from([2, 4, 6, -1, -1, -1, -1]),
      feature: Int32Array.from([0, 1, 1, -1, -1, -1, -1]),
      threshold: Float32Array.from([0.5, -1.25, 2, -0, 0.1, -Infinity, 3.4e38]),
      defaultLeft: Uint8Array.from([0, 1, 1, 0, 0, 0, 0]),
      cover: new Float32Array(7).fill(1),
    }
    const rows = [
      [0.49, -2],
      [0.5, -1.25],
      [NaN, NaN],
      [NaN, 7],
      [0.1, NaN],
      [1, -1.2500001],
      [Math.fround(0.5 - 2 ** -25), 1],
    ]
    const x = Float32Array.from(rows.flat())
    const fn = generateTree(tree)!
    const model: TreeEnsemble = { objective: 'reg:squarederror', baseMargin: 0, numFeature: 2, numGroups: 1, trees: [tree], treeGroup: Int32Array.from([0]) }
    const walk = predictMargins(model, x, rows.length, 2)
    const leaves = [3, 5, 5, 6, 3, 5, 4].map((n) => tree.threshold[n])
    for (let i = 0; i < rows.length; i++) {
      expect(Object.is(fn(x, i * 2), leaves[i])).toBe(true)
      expect(walk[i] === leaves[i]).toBe(true) // the walk adds the leaf to a base margin of 0: 0 + -0 = 0
    }
    expect(generateTree(tree, { nodes: 6, depth: 48 })).toBeNull()
    expect(generateTree(tree, { nodes: 4095, depth: 1 })).toBeNull()
    expect(Array.from(scoreMargins(model, x, rows.length, 2))).toEqual(Array.from(walk))
  })
})

describe('TreeSHAP', () => {
  it('local accuracy: bias + Σ SHAP = margin for every row (binary and multiclass)', async () => {
    for (const task of [{ kind: 'binary', classes: 2 }, { kind: 'multiclass', classes: 3 }] as Task[]) {
      const { x, model } = await trained(task, 15)
      const { sums } = shapSums(model, x, 300)
      expect(maxDiff(sums, predictMargins(model, x, 300, COLS))).toBeLessThan(1e-5)
    }
  })

  it('a feature no tree splits on gets exactly 0', async () => {
    const { x, model } = await trained({ kind: 'binary', classes: 2 }, 10)
    const used = new Set(model.trees.flatMap((t) => Array.from(t.feature).filter((f) => f >= 0)))
    const { s } = shapSums(model, x, 50)
    for (let f = 0; f < COLS; f++) {
      if (used.has(f)) continue
      for (let i = 0; i < 50; i++) expect(s.values[i * s.width + f]).toBe(0)
    }
  })
})

const missing = pythonMissing(['xgboost', 'numpy'])
describe.skipIf(skipReason(missing, 'native xgboost oracle'))('native XGBoost (Debian python3-xgboost) opens our model', () => {
  const tasks = [{ kind: 'binary', classes: 2 }, { kind: 'multiclass', classes: 3 }, { kind: 'regression', classes: 0 }] as Task[]
  const rows = 400
  let dir: string
  const ours = new Map<string, { margins: Float64Array; shap: Float64Array }>()
  let native: Record<string, { margin: number[]; contribs: number[] }>
  beforeAll(async () => {
    dir = scratchDir()
    for (const task of tasks) {
      const { x, bytes, model } = await trained(task, 20)
      fs.writeFileSync(path.join(dir, `${task.kind}.model`), bytes)
      writeF32(path.join(dir, `${task.kind}.x`), x.subarray(0, rows * COLS))
      ours.set(task.kind, { margins: predictMargins(model, x, rows, COLS), shap: treeShap(model, x, rows, COLS).values })
    }
    // One interpreter for all three (importing xgboost costs seconds).
    native = runPython(
      `
import json, sys, numpy as np, xgboost as xgb
a = json.load(sys.stdin)
out = {}
for kind in a['kinds']:
    x = np.fromfile(f"{a['dir']}/{kind}.x", dtype=np.float32).reshape(a['rows'], a['cols'])
    b = xgb.Booster()
    b.load_model(f"{a['dir']}/{kind}.model")
    d = xgb.DMatrix(x, missing=np.nan)
    out[kind] = {'margin': b.predict(d, output_margin=True).ravel().tolist(), 'contribs': b.predict(d, pred_contribs=True).ravel().tolist()}
print(json.dumps(out))
`,
      { dir, kinds: tasks.map((t) => t.kind), rows, cols: COLS },
    )
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  for (const task of tasks) {
    it(`${task.kind}: Booster().load_model() predicts what we predict and pred_contribs equals our TreeSHAP`, () => {
      const mine = ours.get(task.kind)!
      expect(maxDiff(native[task.kind].margin, mine.margins)).toBeLessThan(1e-4)
      // Native layout: rows × groups × (features + 1), bias last: the same as ours.
      expect(maxDiff(native[task.kind].contribs, mine.shap)).toBeLessThan(1e-4)
    })
  }
})
