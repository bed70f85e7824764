import type { Sql } from '#app/db/db.server.ts'
import { transformRecord } from '#app/features/ml/preprocess.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { idColumnsOf, modelContext, targetOf } from './model.server.ts'
import type { PredictBody } from './schemas.ts'
import { intervalOf, predictionOf, scoreMatrix, topReasons } from './score.ts'
import { checkInput } from './validate.ts'

/*
  POST /api/v1/inference/ (spec §9.1): one prediction from `features`, in the caller's transaction. The input is
  checked column by column (validate.ts) before it is scored; the answer carries the class and its probabilities or
  the value and its interval, and every column's SHAP contribution for this row. Each prediction is logged (inputs,
  output, model version, latency) by app.record_prediction in the same transaction: answered means logged.
*/

export async function predictOne(sql: Sql, body: PredictBody, started = performance.now()) {
  const ctx = await modelContext(sql, body.train_id, { preprocessId: body.preprocess_id })
  const t = ctx.training
  const target = targetOf(t)
  if (body.target !== target) {
    throw new ApiError(400, 'VALIDATION_ERROR', `target: training ${t.id} predicts '${target}', not '${body.target}'`, {
      field: 'target',
      fields: [{ field: 'target', message: `must be '${target}'` }],
    })
  }
  const checked = checkInput(ctx.spec, body.features, { ignorable: [...idColumnsOf(t), target], unseen: body.unseen })
  if (!checked.ok) {
    const first = checked.issues[0]
    throw new ApiError(400, 'VALIDATION_ERROR', `${first.field}: ${first.message}${checked.issues.length > 1 ? ` (and ${checked.issues.length - 1} more)` : ''}`, {
      field: first.field,
      fields: checked.issues,
    })
  }
  const input = checked.input
  const x = transformRecord(ctx.spec, input.record)
  const s = scoreMatrix(ctx.spec, ctx.model, x, 1, { explain: true })
  const classification = !!ctx.spec.target.classes
  const prediction = predictionOf(ctx.spec, s, 0)
  const k = body.top_k ?? ctx.spec.columns.length
  const contributions = topReasons(ctx.spec, s, 0, k).map((r) => ({ feature: r.feature, value: input.record[r.feature] ?? null, shap: r.shap, direction: r.direction }))
  const classes = ctx.spec.target.classes
  const output = {
    prediction,
    ...(classification
      ? { probability: s.value[0], probabilities: Object.fromEntries(classes!.map((c, j) => [c, s.probabilities![j]])) }
      : { interval: intervalOf(s.value[0], ctx.version.residuals) }),
    contributions,
    explanation: {
      explains: classification ? (s.groups === 1 ? `log-odds of '${prediction}'` : `score of class '${prediction}'`) : `the predicted ${target}`,
      base_value: s.bias![0],
      margin: s.margin[0],
      method: ctx.model.kind === 'trees' ? 'TreeSHAP' : 'linear SHAP',
    },
  }
  const latency = performance.now() - started
  const { rows } = await sql.query<{ id: number }>(`select app.record_prediction($1, $2, $3, $4::text::jsonb, $5::text::jsonb, $6) as id`, [
    t.id,
    ctx.version.id,
    ctx.preprocessId,
    JSON.stringify(body.features),
    JSON.stringify(output),
    latency,
  ])
  return {
    status: 'success' as const,
    prediction_id: rows[0].id,
    train_id: t.id,
    preprocess_id: ctx.preprocessId,
    target,
    problem_type: t.problem_type,
    model_id: ctx.version.id,
    model_version: ctx.version.version,
    model: ctx.version.model_name,
    ...output,
    unseen_categories: input.unseen,
    missing_values: input.missing,
    ignored: input.ignored,
    latency_ms: Math.round(latency * 1000) / 1000,
    model_cached: ctx.cached,
  }
}
