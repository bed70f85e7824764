/**
 * Small dense symmetric algebra for regressions computed from moments (a k×k cross-product matrix, k ≤ ~40):
 * the sweep operator, which gives the inverse, the coefficients and the residual sum of squares in one pass
 * and skips aliased (collinear or constant) columns instead of dividing by ~0.
 */

export type Matrix = number[][]

export const copy = (m: Matrix): Matrix => m.map((r) => r.slice())

export function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)))
}

/** The rows and columns `idx` of m, in that order. */
export function sub(m: Matrix, idx: readonly number[], cols: readonly number[] = idx): Matrix {
  return idx.map((i) => cols.map((j) => m[i][j]))
}

export function matVec(m: Matrix, v: readonly number[]): number[] {
  return m.map((r) => r.reduce((s, x, j) => s + x * v[j], 0))
}

export function dot(a: readonly number[], b: readonly number[]) {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/** v' M v */
export function quadForm(m: Matrix, v: readonly number[]) {
  return dot(v, matVec(m, v))
}

export interface Swept {
  /** The swept matrix: on swept pivots −A⁻¹ (restricted to them), beside them the coefficients, elsewhere the residual matrix. */
  m: Matrix
  /** Pivots that were skipped: their remaining variance was below `tol` of their original one (aliased). */
  aliased: number[]
  swept: number[]
}

/**
 * Goodnight's sweep of a symmetric matrix on `pivots`, in order. After sweeping the predictors of
 * [[Sxx, Sxy], [Syx, Syy]]: m[x][x] = −Sxx⁻¹, m[x][y] = β, m[y][y] = Syy − Syx Sxx⁻¹ Sxy (the residual sum of squares).
 */
export function sweep(a: Matrix, pivots: readonly number[], tol = 1e-10): Swept {
  const m = copy(a)
  const n = m.length
  const aliased: number[] = []
  const swept: number[] = []
  for (const k of pivots) {
    const d = m[k][k]
    if (!(Math.abs(d) > tol * Math.max(Math.abs(a[k][k]), Number.MIN_VALUE)) || a[k][k] <= 0) {
      aliased.push(k)
      continue
    }
    for (let i = 0; i < n; i++) {
      if (i === k) continue
      const f = m[i][k] / d
      if (f === 0) continue
      for (let j = 0; j < n; j++) if (j !== k) m[i][j] -= f * m[k][j]
    }
    for (let i = 0; i < n; i++) {
      if (i === k) continue
      m[i][k] /= d
      m[k][i] /= d
    }
    m[k][k] = -1 / d
    swept.push(k)
  }
  return { m, aliased, swept }
}

/** The inverse of a symmetric positive-definite matrix (throws when it is singular). */
export function inverseSpd(a: Matrix): Matrix {
  const all = a.map((_, i) => i)
  const { m, aliased } = sweep(a, all)
  if (aliased.length) throw new Error(`singular matrix (columns ${aliased.join(', ')})`)
  return m.map((r) => r.map((x) => -x))
}

/** Solves A x = b for a symmetric positive-definite A (Cholesky). */
export function solveSpd(a: Matrix, b: readonly number[]): number[] {
  const n = a.length
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0))
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j]
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k]
      if (i === j) {
        if (!(s > 0)) throw new Error('matrix is not positive definite')
        l[i][i] = Math.sqrt(s)
      } else l[i][j] = s / l[j][j]
    }
  }
  const y = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    let s = b[i]
    for (let k = 0; k < i; k++) s -= l[i][k] * y[k]
    y[i] = s / l[i][i]
  }
  const x = new Array<number>(n)
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]
    for (let k = i + 1; k < n; k++) s -= l[k][i] * x[k]
    x[i] = s / l[i][i]
  }
  return x
}

export function matMul(a: Matrix, b: Matrix): Matrix {
  return a.map((r) => b[0].map((_, j) => r.reduce((s, x, k) => s + x * b[k][j], 0)))
}
