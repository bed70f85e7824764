import { kmeans } from 'ml-kmeans'
import { seededRandom } from './stats.ts'

/**
 * k-means segmentation: features standardised (population std, as scikit-learn's StandardScaler), ml-kmeans with
 * k-means++ seeding restarted from several seeds (the lowest inertia wins), the mean silhouette computed exactly
 * in one pass over pairs (memory O(n·k), not a distance matrix) or on a seeded sample, and names from the
 * centroids' z-scores. Points are a row-major Float64Array of n × d values.
 */

export interface Points {
  data: Float64Array
  n: number
  d: number
}

export function standardize({ data, n, d }: Points) {
  const means = new Array<number>(d).fill(0)
  const stds = new Array<number>(d).fill(0)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) means[j] += data[i * d + j]
  for (let j = 0; j < d; j++) means[j] /= n
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) stds[j] += (data[i * d + j] - means[j]) ** 2
  for (let j = 0; j < d; j++) stds[j] = Math.sqrt(stds[j] / n)
  const z = new Float64Array(n * d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = stds[j] > 0 ? (data[i * d + j] - means[j]) / stds[j] : 0
  return { z: { data: z, n, d } satisfies Points, means, stds }
}

export interface KmeansFit {
  labels: Int32Array
  /** Centres in the space the points were given in. */
  centers: number[][]
  sizes: number[]
  inertia: number
  iterations: number
  /** The seed of the restart that won. */
  seed: number
}

/** Nearest-centre assignments and exact centre means, repeated until no point moves (the end of Lloyd's algorithm). */
function settle(p: Points, centers: number[][], maxRounds = 100) {
  const { data, n, d } = p
  const k = centers.length
  const labels = new Int32Array(n).fill(-1)
  let inertia = 0
  let rounds = 0
  for (; rounds < maxRounds; rounds++) {
    let moved = 0
    inertia = 0
    for (let i = 0; i < n; i++) {
      let best = 0
      let bestD = Infinity
      for (let c = 0; c < k; c++) {
        let s = 0
        const cc = centers[c]
        for (let j = 0; j < d; j++) s += (data[i * d + j] - cc[j]) ** 2
        if (s < bestD) {
          bestD = s
          best = c
        }
      }
      if (labels[i] !== best) moved++
      labels[i] = best
      inertia += bestD
    }
    if (!moved) break
    const sums = Array.from({ length: k }, () => new Array<number>(d).fill(0))
    const counts = new Array<number>(k).fill(0)
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++
      for (let j = 0; j < d; j++) sums[labels[i]][j] += data[i * d + j]
    }
    // An emptied cluster keeps its centre.
    centers = centers.map((c, ci) => (counts[ci] ? sums[ci].map((s) => s / counts[ci]) : c))
  }
  const sizes = new Array<number>(k).fill(0)
  for (let i = 0; i < n; i++) sizes[labels[i]]++
  return { labels, centers, sizes, inertia, rounds }
}

function rowsOf({ data, n, d }: Points): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)))
}

/** Best of `restarts` k-means++ runs (seeds seed, seed+1, …) by inertia. */
export function kmeansBest(p: Points, k: number, opts: { restarts?: number; seed?: number; maxIterations?: number } = {}): KmeansFit {
  const restarts = opts.restarts ?? 10
  const seed = opts.seed ?? 0
  const rows = rowsOf(p)
  let best: KmeansFit | null = null
  for (let r = 0; r < restarts; r++) {
    const res = kmeans(rows, k, { initialization: 'kmeans++', seed: seed + r, maxIterations: opts.maxIterations ?? 300, tolerance: 1e-8 })
    const s = settle(p, res.centroids.map((c) => [...c]))
    if (!best || s.inertia < best.inertia - 1e-12) {
      best = { labels: s.labels, centers: s.centers, sizes: s.sizes, inertia: s.inertia, iterations: res.iterations + s.rounds, seed: seed + r }
    }
  }
  return best!
}

/**
 * Mean silhouette coefficient (scikit-learn's `silhouette_score`, Euclidean): for each point a = mean distance to its
 * own cluster, b = lowest mean distance to another; s = (b − a) / max(a, b), 0 for a point alone in its cluster.
 * Memory O(n): no distance matrix.
 */
export function silhouetteExact(p: Points, labels: ArrayLike<number>, k: number): number {
  const { n, d } = p
  if (n < 2) return NaN
  // Points copied in cluster order, so each point's distance sum to a cluster is one tight loop over a block.
  const counts = new Array<number>(k).fill(0)
  for (let i = 0; i < n; i++) counts[labels[i]]++
  const start = new Array<number>(k + 1).fill(0)
  for (let c = 0; c < k; c++) start[c + 1] = start[c] + counts[c]
  const fill = start.slice(0, k)
  const x = new Float64Array(n * d)
  const lab = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const at = fill[labels[i]]++
    lab[at] = labels[i]
    for (let t = 0; t < d; t++) x[at * d + t] = p.data[i * d + t]
  }
  // Each pair once: row i's sums to each cluster accumulate in registers, the other side in per-cluster columns.
  const rowSums = new Float64Array(n * k)
  const colSums = Array.from({ length: k }, () => new Float64Array(n))
  for (let i = 0; i < n; i++) {
    const col = colSums[lab[i]]
    const oi = i * d
    for (let c = 0; c < k; c++) {
      let acc = 0
      for (let j = Math.max(start[c], i + 1); j < start[c + 1]; j++) {
        const oj = j * d
        let s2 = 0
        for (let t = 0; t < d; t++) {
          const diff = x[oi + t] - x[oj + t]
          s2 += diff * diff
        }
        const dist = Math.sqrt(s2)
        acc += dist
        col[j] += dist
      }
      rowSums[i * k + c] += acc
    }
  }
  let total = 0
  for (let i = 0; i < n; i++) {
    const li = lab[i]
    if (counts[li] <= 1) continue
    let a = 0
    let b = Infinity
    for (let c = 0; c < k; c++) {
      if (!counts[c]) continue
      const sum = rowSums[i * k + c] + colSums[c][i]
      if (c === li) a = sum / (counts[c] - 1)
      else b = Math.min(b, sum / counts[c])
    }
    const m = Math.max(a, b)
    if (m > 0 && Number.isFinite(b)) total += (b - a) / m
  }
  return total / n
}

/** `m` distinct indices of 0..n−1, seeded (partial Fisher–Yates), in ascending order. */
export function sampleIndices(n: number, m: number, seed: number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i)
  const rand = seededRandom(seed)
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i))
    const t = idx[i]
    idx[i] = idx[j]
    idx[j] = t
  }
  return idx.slice(0, m).sort()
}

export const SILHOUETTE_EXACT_MAX = 10_000

/** Exact up to `exactMax` points; beyond, the silhouette of a seeded sample of `exactMax` points (its size returned). */
export function silhouette(p: Points, labels: ArrayLike<number>, k: number, opts: { exactMax?: number; seed?: number } = {}) {
  const max = opts.exactMax ?? SILHOUETTE_EXACT_MAX
  if (p.n <= max) return { score: silhouetteExact(p, labels, k), sampleSize: p.n, sampled: false }
  const idx = sampleIndices(p.n, max, opts.seed ?? 0)
  const data = new Float64Array(max * p.d)
  const sl = new Int32Array(max)
  idx.forEach((r, i) => {
    data.set(p.data.subarray(r * p.d, (r + 1) * p.d), i * p.d)
    sl[i] = labels[r]
  })
  return { score: silhouetteExact({ data, n: max, d: p.d }, sl, k), sampleSize: max, sampled: true }
}

const humanize = (s: string) => s.replace(/[_-]+/g, ' ').trim()

/**
 * A name per cluster from its centre's z-scores: the (up to two) features furthest from the mean, as
 * "High average spend, low recency"; "Typical" when every feature is within half a standard deviation.
 */
export function clusterNames(centersZ: number[][], features: readonly string[], threshold = 0.5): string[] {
  const seen = new Map<string, number>()
  return centersZ.map((c) => {
    const parts = c
      .map((z, j) => ({ z, f: features[j] }))
      .filter((x) => Math.abs(x.z) >= threshold)
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z))
      .slice(0, 2)
      .map((x) => `${x.z > 0 ? 'high' : 'low'} ${humanize(x.f)}`)
    let name = parts.length ? parts.join(', ') : 'typical'
    name = name[0].toUpperCase() + name.slice(1)
    const count = (seen.get(name) ?? 0) + 1
    seen.set(name, count)
    return count > 1 ? `${name} (${count})` : name
  })
}

export interface SegmentInput {
  points: Points
  /** A number of clusters, or 'auto': the k of 2..10 with the best silhouette (on a seeded sample of AUTO_SAMPLE). */
  k: number | 'auto'
  restarts: number
  seed: number
  maxIterations: number
}

export const AUTO_SAMPLE = 3000
export const AUTO_MAX_K = 10

/** The whole segmentation on raw points: standardise, choose k, cluster, score. Runs on a pool thread. */
export function segment(input: SegmentInput) {
  const { z, means, stds } = standardize(input.points)
  const opts = { restarts: input.restarts, seed: input.seed, maxIterations: input.maxIterations }
  const selection: { k: number; silhouette: number; inertia: number }[] = []
  let k: number
  if (input.k === 'auto') {
    const maxK = Math.min(AUTO_MAX_K, z.n - 1)
    for (let c = 2; c <= maxK; c++) {
      const fit = kmeansBest(z, c, { ...opts, restarts: Math.min(opts.restarts, 4) })
      const s = silhouette(z, fit.labels, c, { exactMax: AUTO_SAMPLE, seed: input.seed })
      selection.push({ k: c, silhouette: s.score, inertia: fit.inertia })
    }
    k = selection.reduce((best, s) => (s.silhouette > best.silhouette ? s : best), selection[0]).k
  } else k = input.k
  const fit = kmeansBest(z, k, opts)
  const s = silhouette(z, fit.labels, k, { seed: input.seed })
  return {
    k,
    labels: fit.labels,
    centersZ: fit.centers,
    centers: fit.centers.map((c) => c.map((v, j) => v * stds[j] + means[j])),
    sizes: fit.sizes,
    inertia: fit.inertia,
    seed: fit.seed,
    iterations: fit.iterations,
    silhouette: s.score,
    silhouetteSampleSize: s.sampleSize,
    silhouetteSampled: s.sampled,
    selection,
    means,
    stds,
  }
}
export type SegmentResult = ReturnType<typeof segment>
