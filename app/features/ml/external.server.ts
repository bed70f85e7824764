import type { Db } from '#app/db/db.server.ts'
import { authenticateRequest } from '#app/features/auth/auth.server.ts'
import { ApiError, authRequired, conflict, forbidden, fromZod, notFound } from '#app/http/errors.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { parseJsonModel } from './tree-model.ts'
import { trainerScript, verifyTrainerToken, type TrainerClaims } from './engines.server.ts'
import { sha256Hex } from './registry.server.ts'
import { shapResultInput, trainResultInput } from './schemas.ts'

/*
  The external trainer's side of the API: its input file, its script (for Ray workers), and the two callbacks of the
  spec (§8.7 /train/result, §8.11 /train/shap-result). A callback is accepted from a service_role caller or with the
  per-job token the trainer was given; it is validated (bad metrics → 400, unknown training → 404), and idempotent:
  posting the same result twice changes nothing the second time, a different one for the same job is a 409.
  The result is stored; the training job that waits for the trainer scores the model on the held-out rows and
  registers it (jobs.server.ts), so the numbers in the registry are computed here, not taken on trust.
*/

export interface ExternalResult {
  job_id: string
  received_at: string
  error: string | null
  metrics: Record<string, number>
  checkpoint: string | null
  path: string | null
  best_iteration: number | null
  duration_ms: number | null
  file_key: string | null
  checksum: string | null
  format: 'xgboost-json' | null
  preprocess_ref: string | number | null
}

const MAX_CALLBACK_BYTES = 64 * 1024 * 1024

export function inputFileKey(tenantId: string, trainingId: number, jobId: string) {
  return `${tenantId}/training/training-${trainingId}/input-${jobId}.hdml`
}
export function externalModelKey(tenantId: string, trainingId: number, jobId: string) {
  return `${tenantId}/training/training-${trainingId}/external-${jobId}.json`
}

interface Who {
  tenantId: string
  token: TrainerClaims | null
}

/** A service_role caller (Authorization: Bearer) or a trainer token (X-Trainer-Token header or `token` in the body). */
async function trainerCaller(request: Request, db: Db, bodyToken?: string): Promise<Who> {
  if (request.headers.has('authorization')) {
    const caller = await authenticateRequest(request, db)
    if (!caller) throw authRequired()
    if (caller.kind !== 'service') throw forbidden('Callbacks accept a service_role caller or the trainer token of the job')
    return { tenantId: caller.tenantId, token: null }
  }
  const token = request.headers.get('x-trainer-token') ?? bodyToken
  if (!token) throw authRequired('A service_role token (Authorization: Bearer) or the job’s trainer token is required')
  const claims = verifyTrainerToken(token)
  if (!claims) throw authRequired('The trainer token is invalid or expired')
  return { tenantId: claims.tenant_id, token: claims }
}

async function readBody(request: Request): Promise<unknown> {
  const length = Number(request.headers.get('content-length') ?? 0)
  if (length > MAX_CALLBACK_BYTES) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `Body larger than ${MAX_CALLBACK_BYTES} bytes`)
  const text = await request.text()
  if (text.length > MAX_CALLBACK_BYTES) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `Body larger than ${MAX_CALLBACK_BYTES} bytes`)
  try {
    return text.trim() ? JSON.parse(text) : {}
  } catch {
    throw new ApiError(400, 'VALIDATION_ERROR', 'body: is not valid JSON', { fields: [{ field: 'body', message: 'is not valid JSON' }] })
  }
}

/** The training the callback is about, as the caller may see it; its current job. */
async function trainingFor(db: Db, who: Who, trainId: number) {
  if (who.token && who.token.train_id !== trainId) throw forbidden(`This trainer token is for training ${who.token.train_id}, not ${trainId}`)
  const { rows } = await db.query<{ id: number; tenant_id: string; job_id: string; engine: string; external_result: ExternalResult | null; columns: { column_name: string; attribute_name: string }[]; status: string }>(
    `select t.id, t.tenant_id, t.job_id, t.engine, t.external_result, t.columns, j.status from public.training_jobs t join public.jobs j on j.id = t.job_id
      where t.id = $1 and t.tenant_id = $2`,
    [trainId, who.tenantId],
  )
  if (!rows.length) throw notFound('Training', trainId)
  const t = rows[0]
  if (t.engine === 'wasm') throw conflict(`Training ${trainId} is trained in-process (engine wasm): it takes no external result`, { train_id: trainId, engine: t.engine })
  if (who.token && who.token.job_id !== t.job_id) throw conflict(`The trainer token is for an earlier job of training ${trainId}`, { job_id: who.token.job_id })
  return t
}

/** POST /api/v1/train/result. */
export async function acceptTrainResult(db: Db, request: Request) {
  const raw = await readBody(request)
  const parsed = trainResultInput.safeParse(raw)
  if (!parsed.success) throw fromZod(parsed.error, 'body')
  const body = parsed.data
  const who = await trainerCaller(request, db, body.token)
  const t = await trainingFor(db, who, body.train_id)
  const r = body.result
  if (!r.error && !r.model_base64) {
    throw new ApiError(400, 'VALIDATION_ERROR', 'result.model_base64: a result without an error must carry the model', {
      fields: [{ field: 'result.model_base64', message: 'required unless result.error is set' }],
    })
  }
  let bytes: Buffer | null = null
  if (r.model_base64) {
    bytes = Buffer.from(r.model_base64, 'base64')
    try {
      parseJsonModel(JSON.parse(bytes.toString('utf8')))
    } catch (e) {
      throw new ApiError(400, 'VALIDATION_ERROR', `result.model_base64: not a native XGBoost JSON model (${(e as Error).message})`, {
        fields: [{ field: 'result.model_base64', message: 'not an XGBoost JSON model' }],
      })
    }
  }
  const checksum = bytes ? sha256Hex(bytes) : null
  const prev = t.external_result
  if (prev && prev.job_id === t.job_id) {
    if (prev.checksum === checksum && prev.error === (r.error ?? null)) {
      return { status: 'success', message: `Result for training ${t.id} was already received.`, train_id: t.id, duplicate: true }
    }
    throw conflict(`A different result for training ${t.id} (job ${t.job_id}) was already received`, { train_id: t.id })
  }
  if (t.status !== 'running' && t.status !== 'queued') throw conflict(`Training ${t.id}'s job has already ${t.status}`, { train_id: t.id, job_status: t.status })
  const key = bytes ? externalModelKey(t.tenant_id, t.id, t.job_id) : null
  if (key && bytes) await getFileStore().put(key, bytes)
  const result: ExternalResult = {
    job_id: t.job_id,
    received_at: new Date().toISOString(),
    error: r.error ?? null,
    metrics: r.metrics as Record<string, number>,
    checkpoint: r.checkpoint ?? null,
    path: r.path ?? null,
    best_iteration: r.best_iteration ?? null,
    duration_ms: r.duration_ms ?? null,
    file_key: key,
    checksum,
    format: bytes ? 'xgboost-json' : null,
    preprocess_ref: body.preprocess_id ?? null,
  }
  // Only the first result for this job lands (a concurrent duplicate finds the row already set).
  const u = await db.query(
    `update public.training_jobs set external_result = $3::text::jsonb where id = $1 and job_id = $2
        and (external_result is null or external_result->>'job_id' is distinct from $2::text)`,
    [t.id, t.job_id, JSON.stringify(result)],
  )
  if (!u.rowCount) return { status: 'success', message: `Result for training ${t.id} was already received.`, train_id: t.id, duplicate: true }
  await db.query(`insert into public.job_logs (job_id, tenant_id, level, message) values ($1, $2, $3, $4)`, [
    t.job_id,
    t.tenant_id,
    r.error ? 'error' : 'info',
    r.error ? `External trainer reported an error: ${r.error.slice(0, 1500)}` : `External trainer posted its model (${bytes!.length} bytes)`,
  ])
  return { status: 'success', message: `Result for training ${t.id} received.`, train_id: t.id, duplicate: false }
}

/** POST /api/v1/train/shap-result: the trainer's mean |SHAP| per column, checked against the training's features. */
export async function acceptShapResult(db: Db, request: Request) {
  const raw = await readBody(request)
  const parsed = shapResultInput.safeParse(raw)
  if (!parsed.success) throw fromZod(parsed.error, 'body')
  const body = parsed.data
  const who = await trainerCaller(request, db, body.token)
  const t = await trainingFor(db, who, body.training_id)
  const features = new Set(t.columns.filter((c) => c.attribute_name === 'Feature').map((c) => c.column_name))
  const unknown = Object.keys(body.result).filter((k) => !features.has(k))
  if (unknown.length) {
    throw new ApiError(400, 'VALIDATION_ERROR', `result: ${unknown.map((k) => `'${k}'`).join(', ')} ${unknown.length === 1 ? 'is not a feature' : 'are not features'} of training ${t.id}`, {
      fields: unknown.map((k) => ({ field: `result.${k}`, message: 'not a feature of this training' })),
    })
  }
  const total = Object.values(body.result).reduce((a, b) => a + b, 0)
  const ordered = Object.entries(body.result).sort((a, b) => b[1] - a[1])
  const result = {
    feature_importance: Object.fromEntries(ordered.map(([k, v]) => [k, total > 0 ? v / total : 0])),
    reported: body.result,
    method: 'external',
    rows: null,
  }
  const text = JSON.stringify(result)
  const { rows } = await db.query<{ same: boolean }>(`select result = $2::text::jsonb as same from public.feature_importance where training_id = $1 and job_id = $3 and source = 'callback'`, [
    t.id,
    text,
    t.job_id,
  ])
  if (rows[0]?.same) return { status: 'success', message: `SHAP result for training ${t.id} was already received.`, training_id: t.id, duplicate: true }
  await db.query(
    `insert into public.feature_importance (training_id, tenant_id, job_id, model_id, result, source, requested_at, computed_at)
     values ($1, $2, $3, null, $4::text::jsonb, 'callback', now(), now())
     on conflict (training_id) do update set job_id = excluded.job_id, result = excluded.result, source = 'callback', computed_at = now()`,
    [t.id, t.tenant_id, t.job_id, text],
  )
  return { status: 'success', message: `SHAP result for training ${t.id} received.`, training_id: t.id, duplicate: false }
}

/** GET /api/v1/train/external/input: the prepared data of the trainer's job (token only). */
export async function serveTrainerInput(db: Db, request: Request, trainId: number) {
  const token = request.headers.get('x-trainer-token')
  const claims = token ? verifyTrainerToken(token) : null
  if (!claims) throw authRequired('The trainer token is missing, invalid or expired')
  const t = await trainingFor(db, { tenantId: claims.tenant_id, token: claims }, trainId)
  const key = inputFileKey(t.tenant_id, t.id, t.job_id)
  const body = await getFileStore().get(key)
  return new Response(body, { headers: { 'Content-Type': 'application/octet-stream' } })
}

/** GET /api/v1/train/external/trainer.py: the trainer script, for a Ray worker to run (token only). */
export async function serveTrainerScript(request: Request) {
  const token = request.headers.get('x-trainer-token')
  if (!token || !verifyTrainerToken(token)) throw authRequired('The trainer token is missing, invalid or expired')
  return new Response(trainerScript(), { headers: { 'Content-Type': 'text/x-python; charset=utf-8' } })
}

export async function readStoredBytes(key: string) {
  const chunks: Uint8Array[] = []
  for await (const c of await getFileStore().read(key)) chunks.push(Uint8Array.from(c))
  return Buffer.concat(chunks)
}
