import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { apiKeyHeaders, CUSTOMER_SCHEMA, customerCsv, customerRows, uploadDataset } from '#tests/support/analytics-data.ts'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'

/** POST /api/v1/segmentation/cluster: k-means against scikit-learn and a test-side computation; the gold table. */

let app: TestApp
let a: TestTenant
let b: TestTenant
let id: number
let bigId: number
const rows = customerRows(900, 2)
const big = customerRows(12_000, 3)
const FEATURES = ['purchase_frequency', 'average_spend', 'recency'] as const

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  id = await uploadDataset(app, a.admin, 'customers', CUSTOMER_SCHEMA, customerCsv(rows))
  bigId = await uploadDataset(app, a.admin, 'customers_big', CUSTOMER_SCHEMA, customerCsv(big))
})
afterAll(() => app.close())

const post = (body: unknown, headers: Record<string, string> = a.data_scientist.auth) => json(app.fetch('/api/v1/segmentation/cluster', { method: 'POST', headers, json: body }))

/** Test-side silhouette of standardised points from a full pass over pairs. */
function silhouetteOf(points: number[][], labels: number[]) {
  let total = 0
  for (let i = 0; i < points.length; i++) {
    const sums = new Map<number, [number, number]>()
    for (let j = 0; j < points.length; j++) {
      if (i === j) continue
      let d2 = 0
      for (let t = 0; t < points[i].length; t++) d2 += (points[i][t] - points[j][t]) ** 2
      const d = Math.sqrt(d2)
      const s = sums.get(labels[j]) ?? [0, 0]
      sums.set(labels[j], [s[0] + d, s[1] + 1])
    }
    const own = sums.get(labels[i])
    if (!own) continue
    const a = own[0] / own[1]
    const bb = Math.min(...[...sums].filter(([c]) => c !== labels[i]).map(([, s]) => s[0] / s[1]))
    total += (bb - a) / Math.max(a, bb)
  }
  return total / points.length
}

describe('k-means segmentation', () => {
  it('clusters standardised features, reports centroids in original units, and writes a gold table', async () => {
    const r = await post({ dataset_id: String(id), algorithm: 'kmeans', n_clusters: 3, features: FEATURES })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.status).toBe('success')
    expect(r.body.clusters).toHaveLength(3)
    expect(r.body.clusters.map((c: { size: number }) => c.size).reduce((s: number, v: number) => s + v, 0)).toBe(rows.length)
    expect(r.body.metrics.silhouette_exact).toBe(true)
    expect(r.body.metrics.silhouette_sample_size).toBe(rows.length)
    // Each row's cluster is in the gold table: centroids are the means of their rows in original units.
    const seg = await json(app.fetch(`/api/v1/segmentation/${r.body.segmentation_id}?limit=5000`, { headers: a.viewer.auth }))
    expect(seg.status).toBe(200)
    const pts = seg.body.points as Record<string, number>[]
    expect(pts).toHaveLength(rows.length)
    for (const c of r.body.clusters) {
      const mine = pts.filter((p) => p.cluster_id === c.cluster_id)
      expect(mine).toHaveLength(c.size)
      for (const f of FEATURES) expect(c.centroid[f]).toBeCloseTo(mine.reduce((s, p) => s + p[f], 0) / mine.length, 8)
    }
    // the spend-heavy, frequent, recent group is named after its z-scores
    const vip = r.body.clusters.find((c: { centroid: Record<string, number> }) => c.centroid.average_spend > 400)
    expect(vip.name).toMatch(/^High (average spend|purchase frequency)/)
    // test-side silhouette over the standardised rows (population std, as StandardScaler)
    const cols = FEATURES.map((f) => pts.map((p) => p[f]))
    const mu = cols.map((c) => c.reduce((s, v) => s + v, 0) / c.length)
    const sd = cols.map((c, j) => Math.sqrt(c.reduce((s, v) => s + (v - mu[j]) ** 2, 0) / c.length))
    const z = pts.map((p) => FEATURES.map((f, j) => (p[f] - mu[j]) / sd[j]))
    expect(r.body.metrics.silhouette_score).toBeCloseTo(silhouetteOf(z, pts.map((p) => p.cluster_id)), 9)
    let inertia = 0
    z.forEach((v, i) => {
      const c = r.body.clusters[pts[i].cluster_id].centroid_z
      inertia += FEATURES.reduce((s, f, j) => s + (v[j] - c[f]) ** 2, 0)
    })
    expect(r.body.metrics.inertia).toBeCloseTo(inertia, 6)
    // registered to the tenant's datalake, invisible to another tenant
    expect(r.body.assignments_table).toMatch(/^gold\.segments_customers_\d+$/)
    const table = r.body.assignments_table.slice('gold.'.length)
    const meta = await json(app.fetch(`/api/v1/datalake/table_metadata?schema_name=gold&table_name=${table}`, { headers: a.viewer.auth }))
    expect(meta.status).toBe(200)
    expect(meta.body.row_count).toBe(rows.length)
    expect((await json(app.fetch(`/api/v1/datalake/table_metadata?schema_name=gold&table_name=${table}`, { headers: b.admin.auth }))).status).toBe(404)
    expect((await json(app.fetch(`/api/v1/segmentation/${r.body.segmentation_id}`, { headers: b.admin.auth }))).status).toBe(404)

    const why = pythonMissing(['sklearn'])
    if (why) return skipNote('k-means vs scikit-learn', why)
    const py = runPython(
      `import json,sys
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
d=json.load(sys.stdin)
X=StandardScaler().fit_transform(np.array(d['x']))
km=KMeans(n_clusters=3,n_init=10,random_state=0).fit(X)
print(json.dumps({'inertia':km.inertia_,'sil':silhouette_score(X,km.labels_),'ours':silhouette_score(X,np.array(d['labels']))}))`,
      { x: rows.map((x) => FEATURES.map((f) => x[f])), labels: pts.map((p) => p.cluster_id) },
    )
    expect(Math.abs(r.body.metrics.inertia - py.inertia) / py.inertia).toBeLessThan(1e-3)
    expect(Math.abs(r.body.metrics.silhouette_score - py.sil)).toBeLessThan(1e-3)
    expect(r.body.metrics.silhouette_score).toBeCloseTo(py.ours, 9)
  }, ORACLE_TIMEOUT)

  it('picks k by silhouette with n_clusters "auto", and can skip the gold table', async () => {
    const r = await post({ dataset_id: id, n_clusters: 'auto', features: FEATURES, save_assignments: false })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.n_clusters).toBe(3)
    const sel = r.body.metrics.k_selection as { k: number; silhouette: number }[]
    expect(sel.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(Math.max(...sel.map((s) => s.silhouette))).toBe(sel[1].silhouette)
    expect(r.body.assignments_table).toBeNull()
  })

  it('samples the silhouette above 10,000 rows and says so', async () => {
    const r = await post({ dataset_id: bigId, n_clusters: 3, features: FEATURES, n_init: 2, save_assignments: false })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.metrics).toMatchObject({ silhouette_exact: false, silhouette_sample_size: 10_000 })
    expect(r.body.rows_clustered).toBe(big.length)
    const why = pythonMissing(['sklearn'])
    if (why) return skipNote('sampled silhouette vs scikit-learn', why)
    const py = runPython(
      `import json,sys
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
X=StandardScaler().fit_transform(np.array(json.load(sys.stdin)))
km=KMeans(n_clusters=3,n_init=2,random_state=0).fit(X)
print(json.dumps({'sil':silhouette_score(X,km.labels_),'inertia':km.inertia_}))`,
      big.map((x) => FEATURES.map((f) => x[f])),
    )
    expect(Math.abs(r.body.metrics.silhouette_score - py.sil)).toBeLessThan(0.01)
    expect(Math.abs(r.body.metrics.inertia - py.inertia) / py.inertia).toBeLessThan(1e-3)
  }, ORACLE_TIMEOUT)

  it('needs analytics.write, and answers bad input with a 4xx naming the field', async () => {
    const ok = { dataset_id: id, n_clusters: 3, features: FEATURES, save_assignments: false }
    expect((await post(ok, a.viewer.auth)).status).toBe(403)
    expect((await post(ok, await apiKeyHeaders(app, a.admin, ['analytics.read']))).status).toBe(403)
    expect((await post(ok, await apiKeyHeaders(app, a.admin, ['analytics.write', 'analytics.read']))).status).toBe(200)
    expect((await post(ok, b.admin.auth)).body.error.code).toBe('INVALID_DATASET')
    const cases: [unknown, string, string?][] = [
      [{ ...ok, features: ['customer'] }, 'features[0]'],
      [{ ...ok, features: ['nope'] }, 'features[0]'],
      [{ ...ok, features: [] }, 'features'],
      [{ ...ok, n_clusters: 1 }, 'n_clusters'],
      [{ ...ok, n_clusters: 'many' }, 'n_clusters'],
      [{ ...ok, algorithm: 'dbscan' }, 'algorithm'],
      [{ ...ok, n_clusters: 5, filters: { equals: { customer: ['C00000', 'C00001', 'C00002'] } } }, 'features', 'INSUFFICIENT_DATA'],
    ]
    for (const [body, field, code] of cases) {
      const r = await post(body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      if (code) expect(r.body.error.code).toBe(code)
      const named = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].join(' ')
      expect(named, JSON.stringify(r.body)).toContain(field)
    }
  })

  it('drops the gold table with its dataset', async () => {
    const other = await uploadDataset(app, a.admin, 'customers_tmp', CUSTOMER_SCHEMA, customerCsv(rows.slice(0, 60)))
    const r = await post({ dataset_id: other, n_clusters: 2, features: FEATURES })
    expect(r.status).toBe(200)
    const table = r.body.assignments_table.slice('gold.'.length)
    const listed = await json(app.fetch('/api/v1/datalake/schemas/tables?schema_name=gold', { headers: a.viewer.auth }))
    expect(listed.body.data.map((t: { table_name: string }) => t.table_name)).toContain(table)
    expect((await json(app.fetch(`/api/v1/dataset/delete/${other}`, { method: 'DELETE', headers: a.admin.auth }))).status).toBe(200)
    const after = await json(app.fetch('/api/v1/datalake/schemas/tables?schema_name=gold', { headers: a.viewer.auth }))
    expect(after.body.data.map((t: { table_name: string }) => t.table_name)).not.toContain(table)
    const { rows: left } = await app.db.query(`select count(*)::int as n from pg_tables where schemaname = 'gold' and tablename like '%seg_${r.body.segmentation_id}'`)
    expect(left[0].n).toBe(0)
  })
})
