import type { Db } from '#app/db/db.server.ts'
import { datasetSilver, forEachSilverBatch } from '#app/features/datasets/datasets.server.ts'
import type { JobContext } from '#app/jobs/jobs.server.ts'
import { runInThread } from '#app/jobs/thread-pool.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { removeFiles, sha256Hex } from '../registry.server.ts'
import type { TrainingRow } from '../training.server.ts'
import { alignRegressor, regularize, toMillis } from './calendar.ts'
import { CANDIDATE_LABEL, leaderboard, MIN_PERIODS, type ForecastArtefact, type SeriesData } from './core.ts'
import type { ForecastSettings } from './forecast.server.ts'

/*
  A Forecast training's job (the ml.train job hands it here): read the time column, target and series id from the
  dataset's silver rows → one regular series per id (gaps filled, counted) → backtest and fit on a pool thread
  (forecast.thread.ts) → register the preprocess (how the series were built) and one model version whose artefact is
  every series' fitted model, history and forecast distribution.
*/

const THREAD = '#app/features/ml/forecast/forecast.thread.ts'
/** The most recent periods of a series kept for training (older ones are dropped, and said so). */
export const MAX_PERIODS = 5000

export async function trainForecastJob(db: Db, t: TrainingRow, ctx: JobContext) {
  const settings = (t.params as unknown as { forecast: ForecastSettings }).forecast
  if (t.dataset_id === null) throw new Error(`The dataset '${t.dataset_name}' was deleted`)
  const silver = await datasetSilver(db, t.tenant_id, t.dataset_id)
  const regressors = settings.regressors ?? []
  const wanted = [settings.timestamp, settings.target, ...(settings.unique_id ? [settings.unique_id] : []), ...regressors]
  const xAt = settings.unique_id ? 3 : 2
  const have = new Set(silver.columns.map((c) => c.column_name))
  const missing = wanted.filter((c) => !have.has(c))
  if (missing.length) throw new Error(`The dataset no longer has column(s) ${missing.join(', ')}`)
  await ctx.step(`Data preparation: reading ${silver.rowCount} rows (${wanted.join(', ')}) from ${silver.table}`, 1)
  const points = new Map<string, { t: number; y: number; x: number[] }[]>()
  // Progress is written outside the cursor's transaction (PGlite has one connection: awaiting it inside deadlocks).
  let chain: Promise<void> = Promise.resolve()
  let read = 0
  let noId = 0
  await forEachSilverBatch(
    db,
    t.tenant_id,
    t.dataset_id,
    (batch) => {
      for (const r of batch.rows) {
        const id = settings.unique_id ? r[2] : ''
        if (id === null || id === undefined) {
          noId++
          continue
        }
        const key = String(id)
        let list = points.get(key)
        if (!list) points.set(key, (list = []))
        list.push({ t: toMillis(r[0]), y: r[1] === null ? NaN : Number(r[1]), x: regressors.map((_, k) => (r[xAt + k] === null ? NaN : Number(r[xAt + k]))) })
      }
      read += batch.rows.length
      const pct = 1 + (8 * read) / Math.max(1, silver.rowCount)
      const message = `Data preparation: read ${read} of ${silver.rowCount} rows`
      chain = chain.then(() => ctx.progress(pct, message)).catch(() => {})
    },
    { columns: wanted, signal: ctx.signal, batchSize: 20_000 },
  )
  await chain
  const series: SeriesData[] = []
  const skipped: { unique_id: string; periods: number }[] = []
  let truncated = 0
  for (const [id, pts] of [...points.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const r = regularize(pts, settings.frequency)
    if (r.values.length < MIN_PERIODS) {
      skipped.push({ unique_id: id, periods: r.values.length })
      continue
    }
    let { start, values } = r
    if (values.length > MAX_PERIODS) {
      truncated++
      start += values.length - MAX_PERIODS
      values = values.slice(-MAX_PERIODS)
    }
    // Each regressor on the target's periods: gaps filled (linear inside its span, nearest value outside), counted.
    const exog: number[][] = []
    const exogFilled: number[] = []
    for (let k = 0; k < regressors.length; k++) {
      const a = alignRegressor(
        pts.map((p) => ({ t: p.t, y: p.x[k] })),
        settings.frequency,
        start,
        values.length,
      )
      if (!a) throw new Error(`INSUFFICIENT_DATA: the regressor '${regressors[k]}' has no value in series '${id || 'the series'}'`)
      exog.push(a.values)
      exogFilled.push(a.filled)
    }
    series.push({ unique_id: id, start, values, rows: r.rows, duplicates: r.duplicates, filled: r.filled, ...(regressors.length ? { exog, exog_filled: exogFilled } : {}) })
  }
  if (!series.length) {
    throw new Error(
      `INSUFFICIENT_DATA: no series has ${MIN_PERIODS} or more ${settings.frequency.toLowerCase()} periods with a value` +
        (skipped.length ? ` (${skipped.slice(0, 5).map((s) => `${s.unique_id || 'the series'}: ${s.periods}`).join(', ')})` : ''),
    )
  }
  const filled = series.reduce((s, x) => s + x.filled, 0)
  await ctx.step(
    `Preprocessing: ${series.length} series of ${settings.frequency} periods; ${filled} missing period(s) filled by linear interpolation` +
      (skipped.length ? `; ${skipped.length} series with fewer than ${MIN_PERIODS} periods left out` : '') +
      (noId ? `; ${noId} row(s) without a series id left out` : '') +
      (truncated ? `; ${truncated} series cut to their last ${MAX_PERIODS} periods` : '') +
      (regressors.length
        ? `; regressor(s) ${regressors.map((c, k) => `${c} (${series.reduce((s, x) => s + (x.exog_filled?.[k] ?? 0), 0)} period(s) filled)`).join(', ')}`
        : ''),
    10,
  )
  if (skipped.length) await ctx.log(`Left out (too short): ${skipped.slice(0, 20).map((s) => `${s.unique_id} (${s.periods})`).join(', ')}`, 'warn')
  const started = performance.now()
  await ctx.step(`Training: backtesting ${settings.candidates.map((c) => CANDIDATE_LABEL[c]).join(', ')} over ${settings.origins} origin(s) of ${settings.horizon} periods`, 10)
  const spec = { frequency: settings.frequency, season_length: settings.season_length, horizon: settings.horizon, origins: settings.origins, candidates: settings.candidates, selection: settings.selection, regressors }
  const artefact = await runInThread<ForecastArtefact>(THREAD, 'train', { series, spec }, {
    signal: ctx.signal,
    onProgress: (v) => {
      const p = v as { pct: number; message: string }
      ctx.progress(p.pct, `Training: ${p.message}`).catch(() => {})
    },
  })
  const duration = performance.now() - started
  const board = leaderboard(artefact)
  for (const l of board) await ctx.log(`${l.model}: mean backtest MASE ${l.mase?.toFixed(4) ?? '—'}, sMAPE ${l.smape?.toFixed(2) ?? '—'} (chosen for ${l.series_chosen} of ${series.length} series)`)
  await ctx.step('Registration', 97)
  const chosen = new Set(artefact.series.map((s) => s.chosen))
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length
  const chosenScores = artefact.series.map((s) => s.leaderboard.find((l) => l.model === s.chosen)!)
  const mases = chosenScores.map((l) => l.mase).filter((v): v is number => v !== null && Number.isFinite(v))
  const smapes = chosenScores.map((l) => l.smape).filter((v): v is number => v !== null && Number.isFinite(v))
  const baseline = board.find((b) => b.candidate === 'seasonal_naive')?.mase ?? null
  const mase = mases.length ? mean(mases) : null
  const metrics = {
    mase,
    smape: smapes.length ? mean(smapes) : null,
    relative_mase_to_seasonal_naive: mase !== null && baseline ? mase / baseline : null,
    series: series.length,
    series_left_out: skipped.length,
    periods: series.reduce((s, x) => s + x.values.length, 0),
    filled_periods: filled,
    frequency: settings.frequency,
    ...(regressors.length
      ? {
          regressors,
          regressor_filled_periods: Object.fromEntries(regressors.map((c, k) => [c, series.reduce((s, x) => s + (x.exog_filled?.[k] ?? 0), 0)])),
          series_using_regressors: artefact.series.filter((s) => s.effect).length,
        }
      : {}),
    leaderboard: board,
  }
  const modelName = chosen.size === 1 ? CANDIDATE_LABEL[[...chosen][0]] : 'AutoForecast'
  return registerForecast(db, t, ctx.jobId, {
    artefact,
    metrics,
    modelName,
    duration,
    preprocess: {
      kind: 'forecast',
      features: [],
      fitted_rows: read,
      timestamp: settings.timestamp,
      target: settings.target,
      unique_id: settings.unique_id,
      regressors: settings.regressors,
      frequency: settings.frequency,
      season_length: settings.season_length,
      aggregation: 'mean of the rows of one period',
      fill: 'linear interpolation between neighbouring periods',
      max_periods: MAX_PERIODS,
    },
    data: {
      dataset_id: t.dataset_id,
      dataset_name: t.dataset_name,
      silver_table: silver.table,
      job_id: ctx.jobId,
      rows: read,
      series: series.length,
      filled_periods: filled,
      left_out: skipped,
      rows_without_series_id: noId,
    },
  })
}

interface ForecastRegistration {
  artefact: ForecastArtefact
  metrics: Record<string, unknown> & { mase: number | null }
  modelName: string
  duration: number
  preprocess: Record<string, unknown> & { fitted_rows: number }
  data: Record<string, unknown>
}

/** Like registerTraining: the file first, then the rows in one transaction (nothing when the training moved on). */
async function registerForecast(db: Db, t: TrainingRow, jobId: string, r: ForecastRegistration) {
  const store = getFileStore()
  const { rows: versions } = await db.query<{ next: number }>(`select coalesce(max(version), 0) + 1 as next from public.model_versions where training_id = $1`, [t.id])
  const version = versions[0].next
  const key = `${t.tenant_id}/models/training-${t.id}/v${version}-forecast.json`
  const bytes = Buffer.from(JSON.stringify(r.artefact))
  await store.put(key, bytes)
  try {
    const done = await db.transaction(async (tx) => {
      const { rows: own } = await tx.query(`select 1 from public.training_jobs where id = $1 and job_id = $2 for update`, [t.id, jobId])
      if (!own.length) return null
      const text = JSON.stringify(r.preprocess)
      const { rows: pre } = await tx.query<{ id: number }>(
        `insert into public.preprocesses (tenant_id, training_id, spec, checksum, feature_count, fitted_rows) values ($1, $2, $3::text::jsonb, $4, 0, $5) returning id`,
        [t.tenant_id, t.id, text, sha256Hex(text), r.preprocess.fitted_rows],
      )
      const { rows: mv } = await tx.query<{ id: number }>(
        `insert into public.model_versions (tenant_id, training_id, version, algorithm, model_name, rank, preprocess_id, format, file_key,
           checksum, size_bytes, metrics, score, params, data_ref, duration_ms, trained_by)
         values ($1, $2, $3, 'Forecast', $4, 1, $5, 'forecast-json', $6, $7, $8, $9::text::jsonb, $10::text::jsonb, $11::text::jsonb, $12::text::jsonb, $13, 'wasm')
         returning id`,
        [
          t.tenant_id,
          t.id,
          version,
          r.modelName,
          pre[0].id,
          key,
          sha256Hex(bytes),
          bytes.length,
          JSON.stringify(r.metrics),
          JSON.stringify({ metric: 'mase', value: r.metrics.mase ?? 0, higher_is_better: false }),
          JSON.stringify(r.artefact.spec),
          JSON.stringify(r.data),
          Math.max(0, Math.round(r.duration)),
        ],
      )
      await tx.query(`update public.training_jobs set preprocess_id = $2, model_id = $3 where id = $1`, [t.id, pre[0].id, mv[0].id])
      return { preprocessId: pre[0].id, modelIds: [mv[0].id], chosenId: mv[0].id }
    })
    if (!done) await removeFiles([key])
    return done
  } catch (e) {
    await removeFiles([key])
    throw e
  }
}
