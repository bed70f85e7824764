/*
  The linear baselines: logistic regression (binary, or multinomial softmax for several classes) with an L2 penalty
  fitted by L-BFGS, and linear regression by ridge-stabilised least squares. Both work on standardised features:
  missing values take the training mean (so they contribute nothing), constant columns get no weight. The objective
  is scikit-learn's (C · Σ log loss + ½‖w‖², intercept not penalised), so its LogisticRegression is an oracle.
  SHAP values of a linear margin are exact: φ_j = w_j (x̃_j − E[x̃_j]), and E[x̃_j] = 0 on the training rows.
*/

export interface LinearModel {
  kind: 'logistic' | 'multinomial' | 'linear'
  /** Input features (matrix columns). */
  features: number
  /** Per feature: the training mean (also the imputed value) and the scale (std; 1 for constant columns). */
  mean: number[]
  scale: number[]
  /** groups × features, on standardised inputs (groups = 1 for logistic and linear). */
  coef: number[][]
  intercept: number[]
  /** Iterations the optimiser took and whether it converged (regression: 1, true). */
  iterations: number
  converged: boolean
}

export interface LinearOptions {
  /** Inverse regularisation strength (scikit-learn's C), default 1. */
  C?: number
  maxIter?: number
  tol?: number
  /** Per-row weights (class balancing), default 1. */
  weights?: Float64Array
}

function standardise(x: Float32Array, rows: number, cols: number) {
  const mean = new Array<number>(cols).fill(0)
  const scale = new Array<number>(cols).fill(1)
  for (let j = 0; j < cols; j++) {
    let s = 0
    let n = 0
    for (let i = 0; i < rows; i++) {
      const v = x[i * cols + j]
      if (v === v) {
        s += v
        n++
      }
    }
    const m = n ? s / n : 0
    let ss = 0
    for (let i = 0; i < rows; i++) {
      const v = x[i * cols + j]
      ss += v === v ? (v - m) ** 2 : 0
    }
    // Population std over all rows (imputed rows count as the mean), as StandardScaler after mean imputation does.
    const sd = rows ? Math.sqrt(ss / rows) : 0
    mean[j] = m
    scale[j] = sd > 1e-12 * Math.max(1, Math.abs(m)) ? sd : 0
  }
  return { mean, scale }
}

/** Standardised copy of the matrix (missing → 0, constant columns → 0). */
export function standardised(model: Pick<LinearModel, 'mean' | 'scale'>, x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = x[i * cols + j]
      const s = model.scale[j]
      out[i * cols + j] = v === v && s ? (v - model.mean[j]) / s : 0
    }
  }
  return out
}

// ---------------------------------------------------------------- L-BFGS

interface Minimised {
  x: Float64Array
  iterations: number
  converged: boolean
}

/** Minimises f (which writes its gradient into g and returns the value) by L-BFGS with a backtracking Wolfe search. */
export function lbfgs(f: (x: Float64Array, g: Float64Array) => number, x0: Float64Array, opts: { maxIter?: number; tol?: number; memory?: number } = {}): Minimised {
  const maxIter = opts.maxIter ?? 200
  const tol = opts.tol ?? 1e-6
  const m = opts.memory ?? 10
  const n = x0.length
  let x = x0.slice()
  let g = new Float64Array(n)
  let fx = f(x, g)
  const S: Float64Array[] = []
  const Y: Float64Array[] = []
  const rho: number[] = []
  const d = new Float64Array(n)
  const alpha = new Array<number>(m)
  const xNew = new Float64Array(n)
  const gNew = new Float64Array(n)
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0
    for (let i = 0; i < n; i++) s += a[i] * b[i]
    return s
  }
  const maxAbs = (a: Float64Array) => {
    let s = 0
    for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(a[i]))
    return s
  }
  for (let iter = 1; iter <= maxIter; iter++) {
    if (maxAbs(g) <= tol) return { x, iterations: iter - 1, converged: true }
    // Two-loop recursion: d = -H g.
    for (let i = 0; i < n; i++) d[i] = -g[i]
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], d)
      for (let i = 0; i < n; i++) d[i] -= alpha[k] * Y[k][i]
    }
    if (S.length) {
      const last = S.length - 1
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last])
      for (let i = 0; i < n; i++) d[i] *= gamma
    } else {
      const gn = Math.sqrt(dot(g, g))
      for (let i = 0; i < n; i++) d[i] /= Math.max(1, gn)
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], d)
      for (let i = 0; i < n; i++) d[i] += (alpha[k] - beta) * S[k][i]
    }
    let slope = dot(g, d)
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = Y.length = rho.length = 0
      for (let i = 0; i < n; i++) d[i] = -g[i]
      slope = dot(g, d)
    }
    let step = 1
    let fNew = Infinity
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i]
      fNew = f(xNew, gNew)
      if (fNew <= fx + 1e-4 * step * slope) break
      step *= 0.5
    }
    if (!(fNew <= fx + 1e-4 * step * slope)) return { x, iterations: iter, converged: false }
    const s = new Float64Array(n)
    const y = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i]
      y[i] = gNew[i] - g[i]
    }
    const sy = dot(s, y)
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift()
        Y.shift()
        rho.shift()
      }
      S.push(s)
      Y.push(y)
      rho.push(1 / sy)
    }
    const decrease = fx - fNew
    x = xNew.slice()
    g = gNew.slice()
    fx = fNew
    if (decrease <= 1e-12 * Math.max(1, Math.abs(fx))) return { x, iterations: iter, converged: maxAbs(g) <= tol * 100 }
  }
  return { x, iterations: maxIter, converged: maxAbs(g) <= tol }
}

// ---------------------------------------------------------------- fitting

/** Logistic regression; `labels` are class indexes (0/1 for binary, 0…k-1 for multinomial). */
export function fitLogistic(x: Float32Array, labels: ArrayLike<number>, rows: number, cols: number, classes: number, opts: LinearOptions = {}): LinearModel {
  const { mean, scale } = standardise(x, rows, cols)
  const z = standardised({ mean, scale }, x, rows, cols)
  const C = opts.C ?? 1
  const w = opts.weights
  const K = classes === 2 ? 1 : classes
  const P = cols + 1
  // Per-row mean loss plus λ/2 ‖w‖² with λ = 1 / (C · n): scikit-learn's minimiser, better conditioned.
  const lambda = 1 / (C * rows)
  const margins = new Float64Array(K)
  const f = (theta: Float64Array, grad: Float64Array) => {
    grad.fill(0)
    let loss = 0
    for (let i = 0; i < rows; i++) {
      const wi = w ? w[i] : 1
      const at = i * cols
      for (let k = 0; k < K; k++) {
        let s = theta[k * P + cols]
        for (let j = 0; j < cols; j++) s += theta[k * P + j] * z[at + j]
        margins[k] = s
      }
      if (K === 1) {
        const m = margins[0]
        const y = labels[i]
        // log(1 + e^m) - y m, computed stably.
        loss += wi * ((m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m))) - y * m)
        const r = wi * (1 / (1 + Math.exp(-m)) - y)
        for (let j = 0; j < cols; j++) grad[j] += r * z[at + j]
        grad[cols] += r
      } else {
        let max = -Infinity
        for (let k = 0; k < K; k++) max = Math.max(max, margins[k])
        let sum = 0
        for (let k = 0; k < K; k++) sum += Math.exp(margins[k] - max)
        const lse = max + Math.log(sum)
        loss += wi * (lse - margins[labels[i]])
        for (let k = 0; k < K; k++) {
          const r = wi * (Math.exp(margins[k] - lse) - (labels[i] === k ? 1 : 0))
          for (let j = 0; j < cols; j++) grad[k * P + j] += r * z[at + j]
          grad[k * P + cols] += r
        }
      }
    }
    let penalty = 0
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < cols; j++) {
        const t = theta[k * P + j]
        penalty += t * t
      }
    }
    for (let i = 0; i < grad.length; i++) grad[i] /= rows
    for (let k = 0; k < K; k++) for (let j = 0; j < cols; j++) grad[k * P + j] += lambda * theta[k * P + j]
    return loss / rows + 0.5 * lambda * penalty
  }
  const r = lbfgs(f, new Float64Array(K * P), { maxIter: opts.maxIter ?? 500, tol: opts.tol ?? 1e-7 })
  return {
    kind: K === 1 ? 'logistic' : 'multinomial',
    features: cols,
    mean,
    scale: scale.map((s) => s || 1),
    coef: Array.from({ length: K }, (_, k) => Array.from({ length: cols }, (_, j) => (scale[j] ? r.x[k * P + j] : 0))),
    intercept: Array.from({ length: K }, (_, k) => r.x[k * P + cols]),
    iterations: r.iterations,
    converged: r.converged,
  }
}

/** Solves the symmetric positive-definite system A x = b (n × n, row-major) by Cholesky; A is overwritten. */
function choleskySolve(A: Float64Array, b: Float64Array, n: number) {
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j]
    for (let k = 0; k < j; k++) s -= A[j * n + k] ** 2
    if (s <= 0) throw new Error('least squares: the system is not positive definite')
    const d = Math.sqrt(s)
    A[j * n + j] = d
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j]
      for (let k = 0; k < j; k++) t -= A[i * n + k] * A[j * n + k]
      A[i * n + j] = t / d
    }
  }
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let t = b[i]
    for (let k = 0; k < i; k++) t -= A[i * n + k] * y[k]
    y[i] = t / A[i * n + i]
  }
  const x = new Float64Array(n)
  for (let i = n - 1; i >= 0; i--) {
    let t = y[i]
    for (let k = i + 1; k < n; k++) t -= A[k * n + i] * x[k]
    x[i] = t / A[i * n + i]
  }
  return x
}

/**
 * Linear regression by least squares on standardised features with a tiny ridge (1e-8 · n) that only matters for
 * exactly collinear columns (one-hot groups): predictions match ordinary least squares.
 */
export function fitLinearRegression(x: Float32Array, y: ArrayLike<number>, rows: number, cols: number, opts: { ridge?: number } = {}): LinearModel {
  const { mean, scale } = standardise(x, rows, cols)
  let ym = 0
  for (let i = 0; i < rows; i++) ym += y[i] / rows
  // Centred normal equations (the intercept is then the mean target, since every standardised column has mean 0).
  const A = new Float64Array(cols * cols)
  const b = new Float64Array(cols)
  const zi = new Float64Array(cols)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = x[i * cols + j]
      zi[j] = v === v && scale[j] ? (v - mean[j]) / scale[j] : 0
    }
    const r = y[i] - ym
    for (let j = 0; j < cols; j++) {
      const a = zi[j]
      if (!a) continue
      b[j] += a * r
      for (let k = 0; k <= j; k++) A[j * cols + k] += a * zi[k]
    }
  }
  const ridge = (opts.ridge ?? 1e-8) * Math.max(1, rows)
  for (let j = 0; j < cols; j++) {
    for (let k = 0; k < j; k++) A[k * cols + j] = A[j * cols + k]
    A[j * cols + j] += scale[j] ? ridge : 1
  }
  const coef = choleskySolve(A, b, cols)
  return {
    kind: 'linear',
    features: cols,
    mean,
    scale: scale.map((s) => s || 1),
    coef: [Array.from(coef, (c, j) => (scale[j] ? c : 0))],
    intercept: [ym],
    iterations: 1,
    converged: true,
  }
}

// ---------------------------------------------------------------- scoring and SHAP

/** Margins (rows × groups) of a linear model. */
export function linearMargins(model: LinearModel, x: Float32Array, rows: number, cols: number): Float64Array {
  const K = model.coef.length
  const out = new Float64Array(rows * K)
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < K; k++) {
      let s = model.intercept[k]
      const w = model.coef[k]
      for (let j = 0; j < cols; j++) {
        const v = x[i * cols + j]
        if (v === v && w[j]) s += (w[j] * (v - model.mean[j])) / model.scale[j]
      }
      out[i * K + k] = s
    }
  }
  return out
}

/** Exact SHAP values of the margin: rows × groups × (features + 1), the last being the bias (the intercept). */
export function linearShap(model: LinearModel, x: Float32Array, rows: number, cols: number) {
  const K = model.coef.length
  const width = cols + 1
  const values = new Float64Array(rows * K * width)
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < K; k++) {
      const at = (i * K + k) * width
      const w = model.coef[k]
      for (let j = 0; j < cols; j++) {
        const v = x[i * cols + j]
        values[at + j] = v === v && w[j] ? (w[j] * (v - model.mean[j])) / model.scale[j] : 0
      }
      values[at + cols] = model.intercept[k]
    }
  }
  return { rows, width, groups: K, values }
}
