/**
 * What the ML benchmarks share (bench:train, bench:inference): a generated CSV (N rows × 20 float features, a binary
 * target; app/features/ml/synthetic.ts) or the Telco-shaped churn table, uploaded once through the upload route as a
 * tenant's dataset (kept for the next run), and a training through POST /api/v1/train/ waited on until its job ends.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import type { Db } from '#app/db/db.server.ts'
import { CHURN_COLUMNS, churnCsv } from '#app/demo/churn.ts'
import { syntheticMatrix } from '#app/features/ml/synthetic.ts'

export interface Case {
  name: string
  rows: number
  columns: { column_name: string; data_type: string; default_value: null }[]
  target: string
  ids: string[]
  file: string
}

/** The generated features' names, f01 … f20. */
export const GENERATED_FEATURES = Array.from({ length: 20 }, (_, j) => `f${String(j + 1).padStart(2, '0')}`)

export function generatedCase(rows: number): Case {
  const name = `bench_gen_${rows}`
  const columns = [...GENERATED_FEATURES.map((column_name) => ({ column_name, data_type: 'Float', default_value: null })), { column_name: 'target', data_type: 'Boolean', default_value: null }]
  const file = path.join(os.tmpdir(), `${name}.csv`)
  if (!fs.existsSync(file)) {
    const { x, y } = syntheticMatrix({ rows, cols: 20, kind: 'binary', seed: 20, missing: 0.01 })
    const fd = fs.openSync(file, 'w')
    fs.writeSync(fd, columns.map((c) => c.column_name).join(',') + '\n')
    let buf = ''
    for (let i = 0; i < rows; i++) {
      let line = ''
      for (let j = 0; j < 20; j++) {
        const v = x[i * 20 + j]
        line += (Number.isNaN(v) ? '' : v.toPrecision(7)) + ','
      }
      buf += line + (y[i] ? 'true' : 'false') + '\n'
      if (buf.length > 1 << 20) {
        fs.writeSync(fd, buf)
        buf = ''
      }
    }
    fs.writeSync(fd, buf)
    fs.closeSync(fd)
  }
  return { name, rows, columns, target: 'target', ids: [], file }
}

export function churnCase(rows: number): Case {
  const name = `bench_churn_${rows}`
  const file = path.join(os.tmpdir(), `${name}.csv`)
  if (!fs.existsSync(file)) fs.writeFileSync(file, churnCsv(rows))
  return { name, rows, columns: CHURN_COLUMNS.map((c) => ({ ...c, default_value: null })), target: 'Churn', ids: ['customerID'], file }
}

function multipart(file: string, boundary: string): ReadableStream<Uint8Array> {
  async function* parts() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${path.basename(file)}"\r\nContent-Type: text/csv\r\n\r\n`)
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 256 * 1024 })) yield chunk as Buffer
    yield Buffer.from(`\r\n--${boundary}--\r\n`)
  }
  return Readable.toWeb(Readable.from(parts())) as ReadableStream<Uint8Array>
}

type RouteModule = { action: (args: never) => Promise<unknown> }
type Auth = { authorization: string }

/** The dataset of this case (uploaded through the route the first time). */
export async function datasetOf(db: Db, tenantId: string, auth: Auth, c: Case): Promise<number> {
  const { rows } = await db.query<{ id: number }>(`select id from public.datasets where tenant_id = $1 and dataset_name = $2 and is_valid`, [tenantId, c.name])
  if (rows.length) return rows[0].id
  const upload = (await import('#app/routes/api.v1.dataset.upload.ts')) as unknown as RouteModule
  const { rows: tpl } = await db.query<{ id: number }>(`insert into public.templates (tenant_id, template_name, template_schema) values ($1, $2, $3::jsonb) returning id`, [
    tenantId,
    `${c.name}-${Date.now()}`,
    JSON.stringify(c.columns),
  ])
  const boundary = `----hd${crypto.randomBytes(8).toString('hex')}`
  const t = performance.now()
  const res = (await upload.action({
    request: new Request(`http://bench.local/api/v1/dataset/upload?dataset_name=${c.name}&usage=t&template_id=${tpl[0].id}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: multipart(c.file, boundary),
      duplex: 'half',
    } as RequestInit),
    params: {},
  } as never)) as Response
  const body = await res.json()
  if (res.status !== 201) throw new Error(`upload failed: ${JSON.stringify(body)}`)
  console.log(`  uploaded ${c.name} (${c.rows.toLocaleString('en-US')} rows) in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  return body.dataset_id
}

/** POST /api/v1/train/ with this body, then waits for the training's job; the training's id once it completed. */
export async function trainAndWait(db: Db, auth: Auth, body: Record<string, unknown>): Promise<number> {
  const train = (await import('#app/routes/api.v1.train.ts')) as unknown as RouteModule
  const res = (await train.action({
    request: new Request('http://bench.local/api/v1/train/', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    params: {},
  } as never)) as Response
  const created = await res.json()
  if (res.status !== 201) throw new Error(`POST /train/ failed: ${JSON.stringify(created)}`)
  let status = 'submitted'
  let error: string | null = null
  while (status === 'submitted' || status === 'queued' || status === 'running') {
    await new Promise((r) => setTimeout(r, 50))
    const { rows } = await db.query<{ status: string; error: string | null }>(`select j.status, j.error from public.training_jobs t join public.jobs j on j.id = t.job_id where t.id = $1`, [created.id])
    status = rows[0].status
    error = rows[0].error
  }
  if (status !== 'completed') throw new Error(`training ${created.id} ${status}: ${error}`)
  return created.id
}
