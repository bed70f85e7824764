import type { Sql } from '#app/db/db.server.ts'
import { notFound } from '#app/http/errors.server.ts'
import { jobStateColumns, type JobStatus } from '#app/jobs/jobs.server.ts'
import type { PredictionsQuery } from './schemas.ts'

/*
  The prediction log as the caller sees it (RLS): GET /inference/predictions (spec §9.6) lists real-time and batch
  predictions with the spec's fields (accuracy computed on the scored rows that carried the target), as JSON pages or
  a CSV download; GET /inference/result (spec §9.5) is one prediction's result: status, the CSV's path and file id,
  counts, the gold table and a download link through the files API.
*/

export interface PredictionRow {
  id: number
  training_id: number
  kind: 'realtime' | 'batch'
  model_id: number | null
  preprocess_id: number | null
  dataset_id: number | null
  dataset_name: string | null
  job_id: string | null
  input: Record<string, unknown>
  output: Record<string, unknown> | null
  latency_ms: number | null
  no_of_records: number | null
  accuracy: number | null
  metrics: Record<string, unknown> | null
  gold_table: string | null
  file_id: number | null
  file_name: string | null
  created_at: Date
  predictor_name: string
  problem_type: string
  domain: string
  job_status: JobStatus | null
  progress: number | null
  message: string | null
  error: string | null
  started_at: Date | null
  finished_at: Date | null
}

const SELECT = `
  select p.id, p.training_id, p.kind, p.model_id, p.preprocess_id, p.dataset_id, p.dataset_name, p.job_id, p.input, p.output,
         p.latency_ms, p.no_of_records, p.accuracy, p.metrics, p.gold_table, p.file_id, f.file_name, p.created_at,
         t.predictor_name, t.problem_type, t.domain, ${jobStateColumns('j').replace('j.status', 'j.status as job_status')}
    from public.predictions p
    join public.training_jobs t on t.id = p.training_id
    left join public.jobs j on j.id = p.job_id
    left join public.dataset_files f on f.id = p.file_id`

/** The spec's status word: a real-time prediction is complete when logged; a batch has its job's state. */
export function statusOf(p: Pick<PredictionRow, 'kind' | 'job_status'>): string {
  if (p.kind === 'realtime') return 'completed'
  return p.job_status === 'queued' ? 'submitted' : (p.job_status ?? 'failed')
}

export function resultPath(p: Pick<PredictionRow, 'dataset_id' | 'file_id' | 'file_name'>) {
  return p.file_id && p.dataset_id && p.file_name ? `/datasets/${p.dataset_id}/files/${p.file_id}/${p.file_name}` : null
}

function listItem(p: PredictionRow) {
  return {
    prediction_id: p.id,
    train_id: p.training_id,
    date: p.created_at,
    dataset_id: p.dataset_id,
    predictor_name: p.predictor_name,
    prediction_type: p.kind,
    input_data: p.kind === 'batch' ? `dataset_id:${p.dataset_id ?? p.input.dataset_id}` : JSON.stringify(p.input),
    status: statusOf(p),
    no_of_records: p.no_of_records ?? 0,
    accuracy: p.accuracy,
    problem_type: p.problem_type,
    domain_name: p.domain,
    // Extensions: the model version, what came out, how long it took, the batch's progress and results.
    model_id: p.model_id,
    preprocess_id: p.preprocess_id,
    dataset_name: p.dataset_name,
    output: p.output,
    latency_ms: p.latency_ms,
    metrics: p.metrics,
    progress: p.kind === 'batch' ? p.progress : 100,
    error: p.error,
    job_id: p.job_id,
    gold_table: p.gold_table ? `gold.${p.gold_table}` : null,
    file_id: p.file_id,
  }
}

const STATUS_SQL: Record<string, string> = {
  completed: `(p.kind = 'realtime' or j.status = 'completed')`,
  failed: `(p.kind = 'batch' and j.status = 'failed')`,
  cancelled: `(p.kind = 'batch' and j.status = 'cancelled')`,
  running: `(p.kind = 'batch' and j.status = 'running')`,
  submitted: `(p.kind = 'batch' and j.status = 'queued')`,
}

function where(q: PredictionsQuery) {
  const conds: string[] = []
  const params: unknown[] = []
  const add = (sql: (n: string) => string, v: unknown) => {
    params.push(v)
    conds.push(sql(`$${params.length}`))
  }
  if (q.train_id !== undefined) add((n) => `p.training_id = ${n}`, q.train_id)
  if (q.prediction_type) add((n) => `p.kind = ${n}`, q.prediction_type)
  if (q.status) conds.push(STATUS_SQL[q.status])
  if (q.from) add((n) => `p.created_at >= ${n}::timestamptz`, q.from)
  // A date alone means through the end of that day.
  if (q.to) add((n) => (q.to!.length === 10 ? `p.created_at < ${n}::date + 1` : `p.created_at <= ${n}::timestamptz`), q.to)
  return { sql: conds.length ? `where ${conds.join(' and ')}` : '', params }
}

const CSV_COLUMNS = ['prediction_id', 'train_id', 'date', 'dataset_id', 'predictor_name', 'prediction_type', 'input_data', 'status', 'no_of_records', 'accuracy', 'problem_type', 'domain_name', 'prediction', 'latency_ms'] as const

function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v)
  // A cell a spreadsheet would run as a formula gets a leading apostrophe (plain numbers stay as they are).
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export async function listPredictions(sql: Sql, q: PredictionsQuery) {
  if (q.train_id !== undefined) {
    const { rows } = await sql.query(`select 1 from public.training_jobs where id = $1`, [q.train_id])
    if (!rows.length) throw notFound('Training', q.train_id)
  }
  const w = where(q)
  if (q.format === 'csv') {
    // Pages of 5,000 by id, each its own query: memory stays flat however long the log is.
    const encoder = new TextEncoder()
    let before = Number.MAX_SAFE_INTEGER
    let started = false
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          let out = started ? '' : CSV_COLUMNS.join(',') + '\r\n'
          started = true
          const n = w.params.length + 1
          const { rows } = await sql.query<PredictionRow>(`${SELECT} ${w.sql ? `${w.sql} and` : 'where'} p.id < $${n} order by p.id desc limit 5000`, [...w.params, before])
          for (const r of rows) {
            const item = listItem(r)
            const prediction = r.output && 'prediction' in r.output ? r.output.prediction : null
            out += CSV_COLUMNS.map((c) => csvCell(c === 'prediction' ? prediction : item[c])).join(',') + '\r\n'
          }
          if (out) controller.enqueue(encoder.encode(out))
          if (rows.length < 5000) controller.close()
          else before = rows[rows.length - 1].id
        } catch (e) {
          controller.error(e)
        }
      },
    })
    return new Response(body, {
      headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="predictions${q.train_id ? `-train-${q.train_id}` : ''}.csv"` },
    })
  }
  const { rows: total } = await sql.query<{ n: number }>(`select count(*)::int as n from public.predictions p left join public.jobs j on j.id = p.job_id ${w.sql}`, w.params)
  const { rows } = await sql.query<PredictionRow>(`${SELECT} ${w.sql} order by p.id desc offset ${q.skip} limit ${q.limit}`, w.params)
  return { total: total[0].n, skip: q.skip, limit: q.limit, data: rows.map(listItem) }
}

export async function loadPrediction(sql: Sql, id: number): Promise<PredictionRow> {
  const { rows } = await sql.query<PredictionRow>(`${SELECT} where p.id = $1`, [id])
  if (!rows.length) throw notFound('Prediction', id)
  return rows[0]
}

export async function predictionResult(sql: Sql, id: number) {
  const p = await loadPrediction(sql, id)
  return {
    status: statusOf(p),
    result_path: resultPath(p),
    file_id: p.file_id,
    dataset_id: p.dataset_id,
    // Extensions: what was scored and how it went, where the rows are, how to download them.
    prediction_id: p.id,
    train_id: p.training_id,
    prediction_type: p.kind,
    model_id: p.model_id,
    no_of_records: p.no_of_records ?? 0,
    accuracy: p.accuracy,
    metrics: p.metrics,
    gold_table: p.gold_table ? `gold.${p.gold_table}` : null,
    download_url: p.file_id ? `/api/v1/files/download/?file_id=${p.file_id}` : null,
    progress: p.kind === 'batch' ? p.progress : 100,
    current_step: p.message,
    error: p.error,
    job_id: p.job_id,
    started_at: p.started_at,
    finished_at: p.finished_at,
    ...(p.kind === 'realtime' ? { input: p.input, output: p.output, latency_ms: p.latency_ms } : { explanations: p.input.explanations ?? null }),
  }
}
