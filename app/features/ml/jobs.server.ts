import type { Db } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { getEnv } from '#app/env.server.ts'
import { datasetSilver, forEachSilverBatch } from '#app/features/datasets/datasets.server.ts'
import { jobSchemaExists, senderFor } from '#app/jobs/boss.server.ts'
import { defineJob, defineSchedule, reconcileJobs, type JobContext } from '#app/jobs/jobs.server.ts'
import { runInThread } from '#app/jobs/thread-pool.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { encodeTrainerInput, runPythonTrainer, submitRayJob, trainerConfig, waitForRayJob } from './engines.server.ts'
import { externalModelKey, inputFileKey, readStoredBytes, type ExternalResult } from './external.server.ts'
import { trainForecastJob } from './forecast/jobs.server.ts'
import { computeImportance, IMPORTANCE_JOB } from './importance.server.ts'
import { RawTableBuilder, rawTableBuffers, type RawTable } from './raw-table.ts'
import { registerTraining, removeFiles, sha256Hex } from './registry.server.ts'
import type { ExternalInput, Step, TrainResult, TrainSpec } from './train-core.ts'
import type { TrainRefusal, TrainThreadProgress } from './train.thread.ts'
import { specOf, TRAIN_JOB, type TrainingRow } from './training.server.ts'

/*
  The training job (one pg-boss job per training, state in public.jobs): read the dataset's silver rows in batches
  into typed arrays → train on a pool thread (WASM XGBoost and the linear baseline) or hand the prepared data to an
  external trainer (Python process / Ray) and score what it sends back → register the model versions. A heartbeat keeps
  the job's row fresh; a job whose row goes stale is presumed lost (its worker died): retried once, then failed.
*/

const THREAD = '#app/features/ml/train.thread.ts'
const STEP_LABEL: Record<Step, string> = {
  data_preparation: 'Data preparation',
  preprocessing: 'Preprocessing',
  training: 'Training',
  cross_validation: 'Cross-validation',
  evaluation: 'Evaluation',
  explanation: 'Explanation (SHAP)',
  registration: 'Registration',
}

/** Trainings whose handler runs in this process (never presumed lost here). On globalThis the set survives Vite re-running this module after an edit in dev (decision 005). */
const local = ((globalThis as { __hotdashTrainingsHere?: Set<string> }).__hotdashTrainingsHere ??= new Set())

class TrainingRefused extends Error {
  name = 'TrainingRefused'
}

/** Reports to the job: a new step appends a log line, progress within a step only updates the row. In order. */
function reporter(ctx: JobContext) {
  let chain: Promise<void> = Promise.resolve()
  let lastStep: Step | null = null
  let lastPct = 0
  const report = (step: Step, pct: number, message: string) => {
    lastPct = pct
    const text = `${STEP_LABEL[step]}: ${message}`
    const changed = step !== lastStep
    lastStep = step
    chain = chain.then(() => (changed ? ctx.step(text, pct) : ctx.progress(pct, text))).catch(() => {})
  }
  return {
    report,
    onThread: (v: unknown) => {
      const p = v as TrainThreadProgress
      report(p.step, p.pct, p.message)
    },
    flush: () => chain,
    heartbeat: () => {
      chain = chain.then(() => ctx.progress(lastPct)).catch(() => {})
    },
  }
}

async function readTable(db: Db, t: TrainingRow, spec: TrainSpec, ctx: JobContext, report: (s: Step, p: number, m: string) => void): Promise<{ table: RawTable; silverTable: string }> {
  if (t.dataset_id === null) throw new TrainingRefused(`The dataset '${t.dataset_name}' was deleted`)
  const silver = await datasetSilver(db, t.tenant_id, t.dataset_id)
  const wanted = [...spec.features, spec.target]
  const byName = new Map(silver.columns.map((c) => [c.column_name, c]))
  const missing = wanted.filter((c) => !byName.has(c))
  if (missing.length) throw new TrainingRefused(`The dataset no longer has column(s) ${missing.join(', ')}`)
  const builder = new RawTableBuilder(
    wanted.map((c) => byName.get(c)!),
    silver.rowCount,
  )
  report('data_preparation', 1, `reading ${silver.rowCount} rows × ${wanted.length} columns from ${silver.table}${t.params.period ? ` (${t.params.period.column} from ${t.params.period.from ?? 'the start'} to ${t.params.period.to ?? 'the end'})` : ''}`)
  await forEachSilverBatch(
    db,
    t.tenant_id,
    t.dataset_id,
    (batch) => {
      builder.append(batch.rows)
      report('data_preparation', 1 + (9 * builder.rows) / Math.max(1, silver.rowCount), `read ${builder.rows} of ${silver.rowCount} rows`)
    },
    { columns: wanted, signal: ctx.signal, batchSize: 20_000, period: t.params.period },
  )
  return { table: builder.finish(), silverTable: silver.table }
}

function dataRef(t: TrainingRow, silverTable: string, jobId: string, data: TrainResult['data']) {
  return { ...data, dataset_id: t.dataset_id, dataset_name: t.dataset_name, silver_table: silverTable, job_id: jobId }
}

async function trainInProcess(db: Db, t: TrainingRow, spec: TrainSpec, table: RawTable, silverTable: string, ctx: JobContext, r: ReturnType<typeof reporter>) {
  const result = await runInThread<TrainResult | TrainRefusal>(THREAD, 'train', { table, spec }, { signal: ctx.signal, transfer: rawTableBuffers(table), onProgress: r.onThread })
  if ('refused' in result) throw new TrainingRefused(result.refused.message)
  await r.flush()
  r.report('registration', 97, `${result.candidates.length} model version(s), best ${result.candidates[0].model} (${result.candidates[0].score.metric} ${result.candidates[0].score.value.toFixed(4)})`)
  for (const c of result.candidates) {
    await ctx.log(`${c.model}: validation ${c.score.metric} = ${c.score.value.toFixed(4)}${c.best_iteration !== undefined ? `, best round ${c.best_iteration + 1} of ${c.rounds_trained}` : ''} (${c.duration_ms} ms)`)
  }
  return registerTraining(db, {
    tenantId: t.tenant_id,
    trainingId: t.id,
    jobId: ctx.jobId,
    preprocess: result.preprocess,
    candidates: result.candidates,
    data: dataRef(t, silverTable, ctx.jobId, result.data),
    importance: result.feature_importance,
    trainedBy: 'wasm',
  })
}

async function trainExternally(db: Db, t: TrainingRow, spec: TrainSpec, table: RawTable, silverTable: string, ctx: JobContext, r: ReturnType<typeof reporter>) {
  const prepared = await runInThread<ExternalInput | TrainRefusal>(THREAD, 'prepare', { table, spec }, { signal: ctx.signal, transfer: rawTableBuffers(table) })
  if ('refused' in prepared) throw new TrainingRefused(prepared.refused.message)
  const store = getFileStore()
  const inputKey = inputFileKey(t.tenant_id, t.id, ctx.jobId)
  const boosting = { ...spec.boosting }
  await store.put(inputKey, encodeTrainerInput(prepared, { shap_rows: spec.shap_rows }))
  // A result from an earlier attempt of this job does not count for this one.
  await db.query(`update public.training_jobs set external_result = null where id = $1 and job_id = $2`, [t.id, ctx.jobId])
  const config = trainerConfig({ trainId: t.id, jobId: ctx.jobId, tenantId: t.tenant_id, input: prepared, boosting, shap: spec.shap, shapRows: spec.shap_rows })
  const started = performance.now()
  try {
    if (t.engine === 'python') {
      r.report('training', 20, `native XGBoost in a Python process (${boosting.n_estimators} rounds at most)`)
      const run = await runPythonTrainer(config, ctx.signal)
      if (run.code !== 0) {
        const posted = await externalResult(db, t.id, ctx.jobId)
        throw new Error(posted?.error ? `External trainer: ${posted.error}` : `The Python trainer exited with code ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`)
      }
    } else {
      const submissionId = `hd-train-${t.id}-${ctx.jobId.slice(0, 8)}`
      await submitRayJob(config, submissionId, ctx.signal)
      await db.query(`update public.training_jobs set external_job_id = $2 where id = $1`, [t.id, submissionId])
      r.report('training', 20, `submitted to Ray as ${submissionId}`)
      const end = await waitForRayJob(submissionId, ctx.signal)
      if (end.status !== 'SUCCEEDED') {
        const posted = await externalResult(db, t.id, ctx.jobId)
        throw new Error(posted?.error ? `External trainer: ${posted.error}` : `The Ray job ${submissionId} ended ${end.status}: ${end.message}`)
      }
    }
  } finally {
    await removeFiles([inputKey])
  }
  const posted = await externalResult(db, t.id, ctx.jobId)
  if (!posted) throw new Error('The external trainer finished without posting a result to /train/result')
  if (posted.error) throw new Error(`External trainer: ${posted.error}`)
  const bytes = await readStoredBytes(posted.file_key!)
  if (sha256Hex(bytes) !== posted.checksum) throw new Error('The stored external model does not match the checksum of what the trainer posted')
  r.report('evaluation', 85, `scoring the trainer's model on ${prepared.validY.length} held-out rows`)
  const scored = await runInThread<{ metrics: TrainResult['candidates'][number]['metrics']; score: TrainResult['candidates'][number]['score']; importance: TrainResult['feature_importance']; trees: number }>(
    THREAD,
    'evaluate',
    { ...prepared, format: 'xgboost-json', artefact: bytes, shap: spec.shap, shapRows: spec.shap_rows },
    { signal: ctx.signal },
  )
  const reported = posted.metrics
  await ctx.log(`Trainer reported ${JSON.stringify(reported)}; computed here: ${scored.score.metric} = ${scored.score.value.toFixed(4)}`)
  const { rows: cb } = await db.query(`select 1 from public.feature_importance where training_id = $1 and job_id = $2 and source = 'callback'`, [t.id, ctx.jobId])
  const registration = await registerTraining(db, {
    tenantId: t.tenant_id,
    trainingId: t.id,
    jobId: ctx.jobId,
    preprocess: prepared.preprocess,
    candidates: [
      {
        algorithm: 'XGBoost',
        model: prepared.task.kind === 'regression' ? 'XGBoostRegressor' : 'XGBoostClassifier',
        format: 'xgboost-json',
        artefact: bytes,
        metrics: scored.metrics,
        score: scored.score,
        params: { ...spec.boosting, xgboost: config.params, reported_metrics: reported, trees: scored.trees },
        best_iteration: posted.best_iteration ?? undefined,
        duration_ms: posted.duration_ms ?? Math.round(performance.now() - started),
      },
    ],
    data: dataRef(t, silverTable, ctx.jobId, prepared.data),
    // The trainer's own SHAP (posted to /train/shap-result) stays; ours fills in when it sent none.
    importance: cb.length ? null : scored.importance,
    trainedBy: t.engine === 'ray' ? 'ray' : 'python',
  })
  if (registration && cb.length) await db.query(`update public.feature_importance set model_id = $2 where training_id = $1`, [t.id, registration.chosenId])
  await removeFiles([externalModelKey(t.tenant_id, t.id, ctx.jobId)])
  return registration
}

async function externalResult(db: Db, trainingId: number, jobId: string): Promise<ExternalResult | null> {
  const { rows } = await db.query<{ external_result: ExternalResult | null }>(`select external_result from public.training_jobs where id = $1`, [trainingId])
  const r = rows[0]?.external_result
  return r && r.job_id === jobId ? r : null
}

defineJob(
  TRAIN_JOB,
  async (_data, ctx) => {
    const db = await getDb()
    const { rows } = await db.query<TrainingRow>(`select * from public.training_jobs where job_id = $1`, [ctx.jobId])
    // Deleted before a worker reached it.
    if (!rows.length) return { skipped: 'the training was deleted' }
    const t = rows[0]
    const spec = specOf(t)
    const r = reporter(ctx)
    local.add(ctx.jobId)
    const beat = setInterval(r.heartbeat, getEnv().HD_TRAIN_HEARTBEAT_SECONDS * 1000)
    try {
      if (t.lost_workers) await ctx.log(`Attempt ${t.lost_workers + 1}: the worker of the previous attempt was lost`, 'warn')
      if (t.problem_type === 'Forecast') {
        const done = await trainForecastJob(db, t, ctx)
        if (!done) return { skipped: 'the training was deleted or restarted while it ran' }
        return { training_id: t.id, model_id: done.chosenId, preprocess_id: done.preprocessId, models: 1 }
      }
      const { table, silverTable } = await readTable(db, t, spec, ctx, r.report)
      await r.flush()
      const registration = t.engine === 'wasm' ? await trainInProcess(db, t, spec, table, silverTable, ctx, r) : await trainExternally(db, t, spec, table, silverTable, ctx, r)
      await r.flush()
      if (!registration) return { skipped: 'the training was deleted or restarted while it ran' }
      return { training_id: t.id, model_id: registration.chosenId, preprocess_id: registration.preprocessId, models: registration.modelIds.length }
    } finally {
      clearInterval(beat)
      local.delete(ctx.jobId)
    }
  },
  { expireInSeconds: 6 * 3600 },
)

// ---------------------------------------------------------------- lost workers

/**
 * Trainings whose job has been running without a heartbeat for HD_TRAIN_STALE_SECONDS: their worker died (killed,
 * out of memory, machine lost). The first time the job goes back to the queue (pg-boss retries it); the second time it
 * fails with that reason. Then the rows are brought in line with pg-boss (reconcileJobs). Returns what it did.
 */
export async function reconcileTrainings(db: Db, opts: { tenantId?: string } = {}) {
  // No worker has ever started on this database: no job has run, nothing to reconcile.
  if (!(await jobSchemaExists(db))) return { retried: [] as number[], failed: [] as number[], reconciled: 0 }
  const stale = getEnv().HD_TRAIN_STALE_SECONDS
  const { rows } = await db.query<{ job_id: string; training_id: number; tenant_id: string; lost_workers: number }>(
    `select j.id as job_id, t.id as training_id, t.tenant_id, t.lost_workers
       from public.jobs j join public.training_jobs t on t.job_id = j.id
      where j.name = $1 and j.status = 'running' and j.updated_at < now() - make_interval(secs => $2)
        and ($3::uuid is null or t.tenant_id = $3::uuid)`,
    [TRAIN_JOB, stale, opts.tenantId ?? null],
  )
  const boss = senderFor(db)
  const retried: number[] = []
  const failed: number[] = []
  for (const row of rows) {
    if (local.has(row.job_id)) continue
    await boss.fail(TRAIN_JOB, row.job_id, { message: 'worker lost' }).catch(() => {})
    if (row.lost_workers < 1) {
      await boss.retry(TRAIN_JOB, row.job_id)
      await db.query(`update public.training_jobs set lost_workers = lost_workers + 1 where id = $1`, [row.training_id])
      const u = await db.query(
        `update public.jobs set status = 'queued', message = 'Queued again: the worker was lost', error = null where id = $1 and status = 'running'`,
        [row.job_id],
      )
      if (u.rowCount) {
        await db.query(`insert into public.job_logs (job_id, tenant_id, level, message) values ($1, $2, 'warn', $3)`, [
          row.job_id,
          row.tenant_id,
          `No heartbeat for ${stale} s: the worker was lost; queued again (one retry)`,
        ])
        retried.push(row.training_id)
      }
    } else {
      const reason = `The worker running this training was lost twice (no heartbeat for ${stale} s); not retried again`
      const u = await db.query(`update public.jobs set status = 'failed', error = $2, finished_at = now() where id = $1 and status = 'running'`, [row.job_id, reason])
      if (u.rowCount) {
        await db.query(`insert into public.job_logs (job_id, tenant_id, level, message) values ($1, $2, 'error', $3)`, [row.job_id, row.tenant_id, `Failed: ${reason}`])
        failed.push(row.training_id)
      }
    }
  }
  const reconciled = await reconcileJobs(db)
  return { retried, failed, reconciled }
}

defineSchedule('ml.train.reconcile', '* * * * *', async () => reconcileTrainings(await getDb()), { expireInSeconds: 120 })

// ---------------------------------------------------------------- feature importance

defineJob<{ trainingId: number }>(IMPORTANCE_JOB, async (data, ctx) => computeImportance(await getDb(), data.trainingId, ctx), { expireInSeconds: 3600 })
