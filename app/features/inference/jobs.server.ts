import { PassThrough } from 'node:stream'
import type { Db } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { ident, physicalTable } from '#app/features/datasets/datasets.server.ts'
import { readArtefact } from '#app/features/ml/ml.server.ts'
import { logError } from '#app/http/log.server.ts'
import { defineJob, type JobContext } from '#app/jobs/jobs.server.ts'
import { runInThread } from '#app/jobs/thread-pool.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { csvHeader, goldColumns, type PageLayout, type PageResult } from './batch-page.ts'
import type { PageTask } from './batch.thread.ts'
import { BATCH_JOB } from './batch.server.ts'
import { idColumnsOf, modelContext, targetOf } from './model.server.ts'

/*
  The batch prediction job (`inference.batch`; state in public.jobs, results in the prediction row):

    silver pages (ctid ranges, each its own short statement) ──► pool thread: preprocess + score + top-3 SHAP reasons
      ──► COPY into an unregistered gold table (listed in public.datalake_staging) + CSV lines into the file store
      ──► one transaction: primary key, registered in the datalake, the CSV's file record, the prediction's counts

  Memory is one page at a time whatever the row count. A failure or a cancel drops the table and deletes the file, so
  the datalake never shows a half-written table; a process that dies leaves a staged table the hourly maintenance
  drops. Pages are ctid ranges rather than one cursor (forEachSilverBatch) because a cursor holds a transaction for
  the whole read, and on PGlite that is the only connection: nobody could watch the progress or cancel the job.
*/

const THREAD = '#app/features/inference/batch.thread.ts'
const PAGE_ROWS = () => Math.max(10, Number(process.env.HD_INFERENCE_PAGE_ROWS) || 10_000)

/** Test seam: called after each page is written (a test makes a page fail to check nothing is left). */
export const batchHooks: { afterPage?: (page: number, predictionId: number) => void | Promise<void> } = {}

interface PredictionJobRow {
  id: number
  tenant_id: string
  training_id: number
  model_id: number
  preprocess_id: number
  dataset_id: number | null
  input: { explanations?: boolean }
}

export async function runBatch(db: Db, ctx: JobContext) {
  const { rows: ps } = await db.query<PredictionJobRow>(`select id, tenant_id, training_id, model_id, preprocess_id, dataset_id, input from public.predictions where job_id = $1`, [ctx.jobId])
  if (!ps.length) return { skipped: 'no prediction names this job' }
  const p = ps[0]
  if (p.dataset_id === null) throw new Error('The dataset was deleted')
  const m = await modelContext(db, p.training_id, { preprocessId: p.preprocess_id, modelId: p.model_id })
  const { rows: silver } = await db.query<{ table_name: string; columns: { column_name: string; data_type: string }[]; valid_records: number; iceberg_table_name: string }>(
    `select r.table_name, d.columns, d.valid_records, d.iceberg_table_name from public.datasets d
       join public.dataset_tables r on r.dataset_id = d.id and r.schema_name = 'silver' where d.id = $1 and d.tenant_id = $2`,
    [p.dataset_id, p.tenant_id],
  )
  if (!silver.length) throw new Error('The dataset has no validated rows')
  const s = silver[0]
  const have = new Set(s.columns.map((c) => c.column_name))
  const missing = m.spec.columns.filter((c) => !have.has(c.column)).map((c) => c.column)
  if (missing.length) throw new Error(`The dataset no longer has column(s) ${missing.join(', ')}`)
  const target = targetOf(m.training)
  const idColumns = idColumnsOf(m.training).filter((c) => have.has(c))
  const inputs = m.spec.columns.map((c) => c.column)
  const extra = [...idColumns, ...(have.has(target) ? [target] : [])].filter((c) => !inputs.includes(c))
  const layout: PageLayout = {
    columns: [...inputs, ...extra],
    idColumns,
    target: have.has(target) ? target : null,
    explain: p.input.explanations !== false,
    residuals: m.version.residuals,
  }
  const types = new Map(s.columns.map((c) => [c.column_name, c.data_type]))
  // Aliased c0…cn: result objects keep that order whatever the names (JS puts integer-like keys first).
  const selected = ['_hd_file_id', '_hd_row', ...layout.columns]
  const select = selected.map((c, i) => `${types.get(c) === 'Date' ? `${ident(c)}::text` : ident(c)} as c${i}`).join(', ')
  const keys = selected.map((_, i) => `c${i}`)
  const bytes = await readArtefact({ id: m.version.id, file_key: m.version.file_key, checksum: m.version.checksum })
  const model = { format: m.version.format, checksum: m.version.checksum, bytes: new Uint8Array(bytes) }

  const suffix = ctx.jobId.replace(/-/g, '').slice(0, 8)
  const physical = physicalTable(p.tenant_id, `pred_${p.id}_${suffix}`)
  const display = `predictions_${s.iceberg_table_name.slice(0, 24)}_${p.id}`.slice(0, 48)
  const cols = goldColumns(m.spec, layout)
  const store = getFileStore()
  const fileName = `prediction_${p.id}.csv`
  const key = `${p.tenant_id}/predictions/prediction-${p.id}-${suffix}.csv`
  const csv = new PassThrough()
  let stored: Promise<{ size: number }> | null = null
  let created = false
  try {
    await db.transaction(async (tx) => {
      await tx.exec(`create table gold.${physical} (_hd_file_id bigint not null, _hd_row bigint not null, ${cols.map((c) => `${ident(c.name)} ${c.type}`).join(', ')});
        revoke all on gold.${physical} from public;`)
      await tx.query(`insert into public.datalake_staging (schema_name, table_name) values ('gold', $1) on conflict do nothing`, [physical])
    })
    created = true
    stored = store.put(key, csv)
    // A failed put must not go unhandled while the pages run; its error is awaited (and thrown) at the end.
    stored.catch(() => {})
    const header = csvHeader(m.spec, layout)
    await write(csv, header.join(',') + '\r\n')

    const { rows: size } = await db.query<{ pages: number }>(`select (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int as pages`, [`silver.${ident(s.table_name)}`])
    const pages = size[0].pages
    const total = s.valid_records
    const goldTarget = `gold.${physical} (_hd_file_id, _hd_row, ${cols.map((c) => ident(c.name)).join(', ')})`
    const sums = { rows: 0, labelled: 0, correct: 0, sse: 0, sae: 0, sumY: 0, sumY2: 0 }
    await ctx.step(`Scoring ${total} rows of ${s.iceberg_table_name}${layout.explain ? ' with top-3 reasons' : ''}`, 1)
    let step = 1
    let at = 0
    let pageNo = 0
    const issue = () => {
      const r = read(at, step)
      at += step
      r.catch(() => {})
      return r
    }
    const read = async (from: number, count: number) => {
      const { rows } = await db.query<Record<string, unknown>>(
        `select ${select} from silver.${ident(s.table_name)} where ctid >= $1::tid and ctid < $2::tid order by _hd_file_id, _hd_row`,
        [`(${from},0)`, `(${from + count},0)`],
      )
      return rows.map((r) => keys.map((k) => r[k]))
    }
    // Reading page k+1 while page k is scored on a thread.
    let next = pages > 0 ? issue() : null
    while (next) {
      const rows = await next
      // Heap pages hold different numbers of rows: aim the next ranges at PAGE_ROWS rows.
      if (rows.length) step = Math.max(1, Math.min(4096, Math.round((step * PAGE_ROWS()) / rows.length)))
      next = at < pages ? issue() : null
      if (!rows.length) continue
      const task: PageTask = { model, spec: m.spec, layout, rows }
      const r = await runInThread<PageResult>(THREAD, 'score', task, { signal: ctx.signal })
      await db.copyFrom(goldTarget, '', [Buffer.from(r.gold)])
      await write(csv, r.csv)
      for (const k of Object.keys(sums) as (keyof typeof sums)[]) sums[k] += r[k]
      pageNo++
      await batchHooks.afterPage?.(pageNo, p.id)
      await db.query(`update public.datalake_staging set created_at = clock_timestamp() where schema_name = 'gold' and table_name = $1`, [physical])
      await ctx.progress(1 + (97 * sums.rows) / Math.max(1, total), `scored ${sums.rows} of ${total} rows`)
    }
    csv.end()
    const file = await stored
    const classification = !!m.spec.target.classes
    const metrics = !sums.labelled
      ? null
      : classification
        ? { labelled_rows: sums.labelled, correct: sums.correct, accuracy: sums.correct / sums.labelled }
        : (() => {
            const mean = sums.sumY / sums.labelled
            const tss = sums.sumY2 - sums.labelled * mean * mean
            return { labelled_rows: sums.labelled, rmse: Math.sqrt(sums.sse / sums.labelled), mae: sums.sae / sums.labelled, r2: tss > 0 ? 1 - sums.sse / tss : null }
          })()
    const accuracy = classification && sums.labelled ? sums.correct / sums.labelled : null
    await ctx.step(`Writing gold.${display} and ${fileName}`, 99)
    const fileId = await db.transaction(async (tx) => {
      const { rows: own } = await tx.query(`select 1 from public.predictions where id = $1 and job_id = $2 for update`, [p.id, ctx.jobId])
      if (!own.length) throw new Error('The prediction was given to another job')
      await tx.exec(`alter table gold.${physical} add primary key (_hd_file_id, _hd_row)`)
      await tx.query(`insert into public.dataset_tables (tenant_id, dataset_id, schema_name, table_name, display_name) values ($1, $2, 'gold', $3, $4)`, [p.tenant_id, p.dataset_id, physical, display])
      const { rows: f } = await tx.query<{ id: number }>(
        `insert into public.dataset_files (tenant_id, dataset_id, file_name, storage_key, size_bytes, header, total_fields, total_records) values ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8) returning id`,
        [p.tenant_id, p.dataset_id, fileName, key, file.size, JSON.stringify(header), header.length, sums.rows],
      )
      await tx.query(
        `update public.predictions set no_of_records = $2, accuracy = $3, metrics = $4::text::jsonb, gold_table = $5, file_id = $6, result_key = $7 where id = $1`,
        [p.id, sums.rows, accuracy, metrics === null ? null : JSON.stringify(metrics), display, f[0].id, key],
      )
      await tx.query(`delete from public.datalake_staging where schema_name = 'gold' and table_name = $1`, [physical])
      return f[0].id
    })
    await ctx.log(`${sums.rows} rows scored${accuracy !== null ? `, accuracy ${accuracy.toFixed(4)} on ${sums.labelled} labelled rows` : ''}; gold.${display}, file ${fileId}`)
    return { prediction_id: p.id, rows: sums.rows, gold_table: `gold.${display}`, file_id: fileId }
  } catch (e) {
    csv.destroy(e instanceof Error ? e : new Error(String(e)))
    await stored?.catch(() => {})
    await store.delete(key).catch((err) => logError(err, { where: 'inference.batch', key }))
    if (created) {
      await db
        .transaction(async (tx) => {
          await tx.exec(`drop table if exists gold.${physical}`)
          await tx.query(`delete from public.datalake_staging where schema_name = 'gold' and table_name = $1`, [physical])
        })
        .catch((err) => logError(err, { where: 'inference.batch', table: physical }))
    }
    throw e
  }
}

/** Writes to the CSV stream, waiting while the store is behind (memory stays one page). */
async function write(stream: PassThrough, text: string) {
  if (!text) return
  if (!stream.write(text)) await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('drain', ok)
      stream.off('error', done)
      stream.off('close', closed)
      if (err) reject(err)
      else resolve()
    }
    const ok = () => done()
    const closed = () => done(new Error('The result file stream closed'))
    stream.on('drain', ok)
    stream.on('error', done)
    stream.on('close', closed)
  })
}

defineJob<null>(BATCH_JOB, async (_data, ctx) => runBatch(await getDb(), ctx), { expireInSeconds: 6 * 3600 })
