import { describe, expect, it } from 'vitest'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'
import { clusterNames, kmeansBest, sampleIndices, silhouette, silhouetteExact, standardize, type Points } from './clustering.ts'
import { seededRandom } from './stats.ts'

/** Three blobs in three features of very different scales. */
function blobs(n: number, seed: number): Points {
  const rand = seededRandom(seed)
  const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand())
  const centres = [[2, 450, 7], [12, 120, 30], [6, 250, 90]]
  const data = new Float64Array(n * 3)
  for (let i = 0; i < n; i++) {
    const c = centres[i % 3]
    data[i * 3] = c[0] + gauss() * 1.5
    data[i * 3 + 1] = c[1] + gauss() * 40
    data[i * 3 + 2] = c[2] + gauss() * 8
  }
  return { data, n, d: 3 }
}

/** Test-side silhouette from a full distance matrix, point by point. */
function silhouetteNaive(p: Points, labels: ArrayLike<number>) {
  const dist = (i: number, j: number) => Math.hypot(...Array.from({ length: p.d }, (_, t) => p.data[i * p.d + t] - p.data[j * p.d + t]))
  let total = 0
  for (let i = 0; i < p.n; i++) {
    const by = new Map<number, number[]>()
    for (let j = 0; j < p.n; j++) if (j !== i) (by.get(labels[j]) ?? by.set(labels[j], []).get(labels[j])!).push(dist(i, j))
    const own = by.get(labels[i]) ?? []
    if (!own.length) continue
    const a = own.reduce((s, v) => s + v, 0) / own.length
    let b = Infinity
    for (const [c, ds] of by) if (c !== labels[i]) b = Math.min(b, ds.reduce((s, v) => s + v, 0) / ds.length)
    total += (b - a) / Math.max(a, b)
  }
  return total / p.n
}

describe('k-means segmentation', () => {
  const p = blobs(600, 5)
  const { z, means, stds } = standardize(p)

  it('standardises with the population std and finds the three blobs', () => {
    expect(means[1]).toBeGreaterThan(200)
    const zm = standardize(z)
    zm.means.forEach((mu) => expect(mu).toBeCloseTo(0, 10))
    zm.stds.forEach((s) => expect(s).toBeCloseTo(1, 10))
    const fit = kmeansBest(z, 3, { restarts: 5, seed: 1 })
    expect(fit.sizes.sort()).toEqual([200, 200, 200])
    // inertia is the sum of squared distances to the assigned centre
    let inertia = 0
    for (let i = 0; i < z.n; i++) for (let j = 0; j < 3; j++) inertia += (z.data[i * 3 + j] - fit.centers[fit.labels[i]][j]) ** 2
    expect(fit.inertia).toBeCloseTo(inertia, 8)
    expect(stds[1]).toBeGreaterThan(10)
  })

  it('computes the exact mean silhouette in one pass', () => {
    const fit = kmeansBest(z, 3, { restarts: 3, seed: 2 })
    const small = { data: z.data.subarray(0, 150 * 3), n: 150, d: 3 }
    const lab = fit.labels.subarray(0, 150)
    expect(silhouetteExact(small, lab, 3)).toBeCloseTo(silhouetteNaive(small, lab), 12)
    const s = silhouette(z, fit.labels, 3, { exactMax: 100, seed: 4 })
    expect(s.sampled).toBe(true)
    expect(s.sampleSize).toBe(100)
    expect([...sampleIndices(10, 4, 1)]).toEqual([...sampleIndices(10, 4, 1)])
    expect(new Set(sampleIndices(50, 50, 3)).size).toBe(50)
  })

  it('names clusters from their z-scores', () => {
    expect(clusterNames([[1.2, -0.9, 0.1], [0.1, 0.2, -0.1], [1.1, -0.7, 0.2]], ['average_spend', 'recency', 'visits'])).toEqual([
      'High average spend, low recency',
      'Typical',
      'High average spend, low recency (2)',
    ])
  })

  it('matches scikit-learn: inertia and silhouette within 1e-3', () => {
    const why = pythonMissing(['sklearn'])
    if (why) return skipNote('k-means vs scikit-learn', why)
    const fit = kmeansBest(z, 3, { restarts: 10, seed: 0 })
    const py = runPython(
      `import json,sys
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
d=json.load(sys.stdin)
X=StandardScaler().fit_transform(np.array(d['x']).reshape(-1,3))
km=KMeans(n_clusters=3,n_init=10,random_state=0).fit(X)
print(json.dumps({'inertia':km.inertia_,'sil':silhouette_score(X,km.labels_),'ours':silhouette_score(X,np.array(d['labels']))}))`,
      { x: Array.from(p.data), labels: Array.from(fit.labels) },
    )
    expect(Math.abs(fit.inertia - py.inertia) / py.inertia).toBeLessThan(1e-3)
    const ours = silhouetteExact(z, fit.labels, 3)
    expect(Math.abs(ours - py.sil)).toBeLessThan(1e-3)
    expect(ours).toBeCloseTo(py.ours, 10)
  }, ORACLE_TIMEOUT)
})
