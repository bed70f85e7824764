import { seededRandom } from './split.ts'

/*
  Seeded synthetic tabular data for tests and benchmarks: a row-major float32 matrix whose target depends on the
  first few features non-linearly, with optional missing values and exact -1 values (the trainer's missing marker).
*/

export interface SyntheticOptions {
  rows: number
  cols: number
  kind: 'binary' | 'multiclass' | 'regression'
  classes?: number
  seed?: number
  /** Fraction of cells left missing (NaN). */
  missing?: number
  /** Fraction of cells set to exactly -1. */
  minusOne?: number
}

export function gaussian(rng: () => number) {
  let u = 0
  while (u === 0) u = rng()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng())
}

export function syntheticMatrix(o: SyntheticOptions) {
  const rng = seededRandom(o.seed ?? 1)
  const x = new Float32Array(o.rows * o.cols)
  const y = new Float64Array(o.rows)
  const k = o.classes ?? 3
  for (let i = 0; i < o.rows; i++) {
    const at = i * o.cols
    for (let j = 0; j < o.cols; j++) x[at + j] = gaussian(rng)
    const f = (j: number) => (j < o.cols ? x[at + j] : 0)
    const score = 1.2 * f(0) - 0.8 * f(1) + 0.6 * f(2) * f(3) + 0.5 * Math.sin(2 * f(4)) + 0.3 * gaussian(rng)
    if (o.kind === 'binary') y[i] = score > 0.3 ? 1 : 0
    else if (o.kind === 'multiclass') y[i] = Math.min(k - 1, Math.max(0, Math.floor((score + 1.5) / (3 / k))))
    else y[i] = 10 + 3 * score + 0.5 * f(5 % o.cols)
    for (let j = 0; j < o.cols; j++) {
      const r = rng()
      if (o.missing && r < o.missing) x[at + j] = NaN
      else if (o.minusOne && r < (o.missing ?? 0) + o.minusOne) x[at + j] = -1
    }
  }
  return { x, y }
}
