/*
  Seeded, reproducible splits: a stratified holdout (validation_split) and stratified k-fold assignment. The same
  seed and the same rows always give the same split. Classification stratifies on the class, regression on deciles
  of the target, so both sides see the whole range.
*/

/** mulberry32: a small, fast, well-mixed 32-bit generator; the seed fixes the sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function shuffleInPlace(a: Int32Array | number[], rng: () => number) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = a[i]
    a[i] = a[j]
    a[j] = t
  }
  return a
}

/** Strata of the rows: the class index for classification, the target decile for regression. */
export function strata(labels: ArrayLike<number>, kind: 'classification' | 'regression', bins = 10): Int32Array {
  const n = labels.length
  const out = new Int32Array(n)
  if (kind === 'classification') {
    for (let i = 0; i < n; i++) out[i] = labels[i]
    return out
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => labels[a] - labels[b] || a - b)
  for (let r = 0; r < n; r++) out[order[r]] = Math.min(bins - 1, Math.floor((r * bins) / n))
  return out
}

function groups(stratum: Int32Array) {
  const by = new Map<number, number[]>()
  for (let i = 0; i < stratum.length; i++) {
    const s = stratum[i]
    let list = by.get(s)
    if (!list) by.set(s, (list = []))
    list.push(i)
  }
  // Strata in a fixed order (not insertion order) so the split does not depend on which class comes first.
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([, idx]) => idx)
}

export interface Holdout {
  train: Int32Array
  valid: Int32Array
}

/**
 * A stratified holdout: `fraction` of each stratum (rounded, at least one row of any stratum with two or more)
 * goes to validation. Both index lists are in ascending row order.
 */
export function stratifiedHoldout(stratum: Int32Array, fraction: number, seed: number): Holdout {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError('validation fraction must be between 0 and 1')
  const rng = seededRandom(seed)
  const isValid = new Uint8Array(stratum.length)
  for (const idx of groups(stratum)) {
    shuffleInPlace(idx, rng)
    let k = Math.round(idx.length * fraction)
    if (idx.length >= 2) k = Math.min(idx.length - 1, Math.max(1, k))
    else k = 0
    for (let i = 0; i < k; i++) isValid[idx[i]] = 1
  }
  let nv = 0
  for (let i = 0; i < isValid.length; i++) nv += isValid[i]
  const train = new Int32Array(stratum.length - nv)
  const valid = new Int32Array(nv)
  let a = 0
  let b = 0
  for (let i = 0; i < isValid.length; i++) {
    if (isValid[i]) valid[b++] = i
    else train[a++] = i
  }
  return { train, valid }
}

/** Stratified k-fold: the fold (0…k-1) of each row; each stratum is dealt round-robin after a seeded shuffle. */
export function stratifiedFolds(stratum: Int32Array, k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw new RangeError('folds must be an integer ≥ 2')
  const rng = seededRandom(seed ^ 0x5bd1e995)
  const fold = new Int32Array(stratum.length)
  let offset = 0
  for (const idx of groups(stratum)) {
    shuffleInPlace(idx, rng)
    // Continue the deal where the last stratum stopped, so folds stay balanced in size too.
    for (let i = 0; i < idx.length; i++) fold[idx[i]] = (offset + i) % k
    offset = (offset + idx.length) % k
  }
  return fold
}

/** Rows of `fold` and the rest, in ascending order. */
export function foldSplit(fold: Int32Array, f: number, within?: Int32Array): Holdout {
  const rows = within ?? Int32Array.from({ length: fold.length }, (_, i) => i)
  const train: number[] = []
  const valid: number[] = []
  for (const i of rows) (fold[i] === f ? valid : train).push(i)
  return { train: Int32Array.from(train), valid: Int32Array.from(valid) }
}
