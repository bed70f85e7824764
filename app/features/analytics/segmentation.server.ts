import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { physicalTable } from '#app/features/datasets/datasets.server.ts'
import { badRequest, notFound } from '#app/http/errors.server.ts'
import { runInThread } from '#app/jobs/thread-pool.server.ts'
import { clusterNames, type SegmentResult } from './clustering.ts'
import type { ClusterInput } from './schemas.ts'
import { asServer, elapsed, filterConditions, insufficientData, num, numericColumn, Params, q, resolveDataset, whereOf } from './source.server.ts'

/**
 * POST /api/v1/segmentation/cluster: the rows where every feature is present are read from the silver table (a
 * cursor, in file order), clustered on a pool thread (clustering.ts), and — unless save_assignments is false — each
 * row's cluster is written to a gold table registered to the tenant (datalake: gold.segments_<dataset>_<id>), in the
 * same transaction as the segmentation's record: both or neither.
 */

export const MAX_CLUSTER_ROWS = 1_000_000
const FETCH = 20_000

const encoder = new TextEncoder()

export async function clusterDataset(tx: Sql, caller: Caller, input: ClusterInput) {
  const started = performance.now()
  const src = await resolveDataset(tx, input.dataset_id)
  const features = [...new Set(input.features)]
  features.forEach((f, i) => numericColumn(src, f, `features[${i}]`))
  const params = new Params()
  const conds = [...filterConditions(src, input.filters, params), ...features.map((f) => `${q(f)} is not null`)]
  const where = whereOf(conds)

  const read = await asServer(tx, caller, async () => {
    const { rows: cnt } = await tx.query<{ n: number; all: number }>(
      `select count(*) filter (where ${conds.length ? conds.map((c) => `(${c})`).join(' and ') : 'true'})::float8 as n, count(*)::float8 as all from ${src.table}`,
      params.values,
    )
    const n = Number(cnt[0].n)
    if (n > MAX_CLUSTER_ROWS) throw badRequest('filters', `${n} rows to cluster; at most ${MAX_CLUSTER_ROWS} (filter them)`)
    const d = features.length
    const data = new Float64Array(n * d)
    const fileIds = new Float64Array(n)
    const rowNos = new Float64Array(n)
    await tx.query(`declare hd_segment no scroll cursor for select _hd_file_id::float8 as f, _hd_row::float8 as r, ${features.map((f, i) => `${num(f)} as x${i}`).join(', ')} from ${src.table} ${where} order by _hd_file_id, _hd_row`, params.values)
    let at = 0
    for (;;) {
      const { rows } = await tx.query<Record<string, number>>(`fetch ${FETCH} from hd_segment`)
      for (const r of rows) {
        if (at >= n) break
        fileIds[at] = r.f
        rowNos[at] = r.r
        for (let j = 0; j < d; j++) data[at * d + j] = r[`x${j}`]
        at++
      }
      if (rows.length < FETCH) break
    }
    await tx.query(`close hd_segment`)
    return { n: at, excluded: Number(cnt[0].all) - at, data: data.subarray(0, at * d), fileIds, rowNos }
  })

  const k = input.n_clusters
  if (read.n < 3 || (k !== 'auto' && read.n <= k)) {
    throw insufficientData(`${read.n} complete rows: too few for ${k === 'auto' ? 'a segmentation' : `${k} clusters`}`, { rows: read.n, field: 'features' })
  }
  const result = await runInThread<SegmentResult>('#app/features/analytics/cluster.thread.ts', 'cluster', {
    points: { data: read.data, n: read.n, d: features.length },
    k,
    restarts: input.n_init,
    seed: input.random_state,
    maxIterations: input.max_iterations,
  })
  const constant = features.filter((_, j) => !(result.stds[j] > 0))
  if (constant.length) throw badRequest('features', `constant over the rows clustered: ${constant.join(', ')}`, { features: constant })
  const names = clusterNames(result.centersZ, features)
  const clusters = result.centers.map((c, i) => ({
    cluster_id: i,
    name: names[i],
    size: result.sizes[i],
    share: result.sizes[i] / read.n,
    centroid: Object.fromEntries(features.map((f, j) => [f, c[j]])),
    centroid_z: Object.fromEntries(features.map((f, j) => [f, result.centersZ[i][j]])),
  }))
  const metrics = {
    silhouette_score: result.silhouette,
    silhouette_sample_size: result.silhouetteSampleSize,
    silhouette_exact: !result.silhouetteSampled,
    inertia: result.inertia,
    inertia_space: 'standardised features',
    ...(k === 'auto' ? { k_selection: result.selection } : {}),
  }

  const { rows: seg } = await tx.query<{ id: number }>(
    `insert into public.segmentations (tenant_id, dataset_id, algorithm, n_clusters, features, clusters, metrics)
     values ($1, $2, 'kmeans', $3, $4::jsonb, $5::jsonb, $6::jsonb) returning id`,
    [caller.tenantId, src.id, result.k, JSON.stringify(features), JSON.stringify(clusters), JSON.stringify(metrics)],
  )
  const segmentationId = seg[0].id
  let goldTable: string | null = null
  if (input.save_assignments) {
    goldTable = `segments_${src.icebergName.slice(0, 30)}_${segmentationId}`.slice(0, 48)
    const physical = physicalTable(caller.tenantId, `seg_${segmentationId}`)
    await asServer(tx, caller, async () => {
      const cols = features.map((f) => `${q(f)} double precision`).join(', ')
      await tx.exec(`create table gold.${physical} (_hd_file_id bigint not null, _hd_row bigint not null, cluster_id integer not null, ${cols}, primary key (_hd_file_id, _hd_row));
        revoke all on gold.${physical} from public;`)
      const chunks: Uint8Array[] = []
      const d = features.length
      let buf = ''
      for (let i = 0; i < read.n; i++) {
        buf += `${read.fileIds[i]}\t${read.rowNos[i]}\t${result.labels[i]}`
        for (let j = 0; j < d; j++) buf += `\t${read.data[i * d + j]}`
        buf += '\n'
        if (buf.length > 1 << 20) {
          chunks.push(encoder.encode(buf))
          buf = ''
        }
      }
      if (buf) chunks.push(encoder.encode(buf))
      await tx.copyFrom(`gold.${physical} (_hd_file_id, _hd_row, cluster_id, ${features.map((f) => q(f)).join(', ')})`, '', chunks)
      await tx.query(
        `insert into public.dataset_tables (tenant_id, dataset_id, schema_name, table_name, display_name) values ($1, $2, 'gold', $3, $4)`,
        [caller.tenantId, src.id, physical, goldTable],
      )
      await tx.query(`update public.segmentations set gold_table = $2 where id = $1`, [segmentationId, goldTable])
    })
  }
  return {
    status: 'success' as const,
    segmentation_id: segmentationId,
    algorithm: 'kmeans' as const,
    n_clusters: result.k,
    features,
    clusters,
    metrics,
    rows_clustered: read.n,
    rows_excluded: read.excluded,
    assignments_table: goldTable ? `gold.${goldTable}` : null,
    execution_time_ms: elapsed(started),
  }
}

/** A saved segmentation and a page of its assignments (for the Segments page's scatter). */
export async function getSegmentation(tx: Sql, caller: Caller, id: number, opts: { limit?: number } = {}) {
  const { rows } = await tx.query(`select id, dataset_id, n_clusters, features, clusters, metrics, gold_table, created_at from public.segmentations where id = $1`, [id])
  if (!rows.length) throw notFound('Segmentation', id)
  const s = rows[0] as { gold_table: string | null; features: string[] }
  let points: Record<string, number>[] = []
  if (s.gold_table) {
    points = await asServer(tx, caller, async () => {
      const { rows: t } = await tx.query<{ table_name: string }>(
        `select table_name from public.dataset_tables where tenant_id = $1 and schema_name = 'gold' and display_name = $2`,
        [caller.tenantId, s.gold_table],
      )
      if (!t.length) return []
      // An even sample: every step-th row in file order, at most `limit` points.
      const limit = Math.min(opts.limit ?? 2000, 20_000)
      const table = `gold.${q(t[0].table_name)}`
      const { rows: cnt } = await tx.query<{ n: number }>(`select count(*)::float8 as n from ${table}`)
      const step = Math.max(1, Math.ceil(Number(cnt[0].n) / limit))
      const { rows: pts } = await tx.query<Record<string, number>>(
        `select cluster_id, ${s.features.map((f) => q(f)).join(', ')}
           from (select *, row_number() over (order by _hd_file_id, _hd_row) as rn from ${table}) s
          where (rn - 1) % ${step} = 0 order by rn limit ${limit}`,
      )
      return pts
    })
  }
  return { ...rows[0], points }
}

/** The tenant's segmentations, newest first (the Segments page's list). */
export async function listSegmentations(tx: Sql, opts: { datasetId?: number; limit?: number } = {}) {
  const { rows } = await tx.query<{ id: number; dataset_id: number; dataset_name: string; n_clusters: number; features: string[]; silhouette: number | null; gold_table: string | null; created_at: Date }>(
    `select s.id, s.dataset_id, d.dataset_name, s.n_clusters, s.features, (s.metrics ->> 'silhouette_score')::float8 as silhouette, s.gold_table, s.created_at
       from public.segmentations s left join public.datasets d on d.id = s.dataset_id
      where ($1::bigint is null or s.dataset_id = $1) order by s.id desc limit $2`,
    [opts.datasetId ?? null, opts.limit ?? 20],
  )
  return rows
}
