import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { getEnv } from '#app/env.server.ts'
import { signingKey } from '#app/features/auth/auth.server.ts'
import { ApiError, badRequest } from '#app/http/errors.server.ts'
import { PROJECT_ROOT } from '#app/project-root.server.ts'
import type { ExternalInput } from './train-core.ts'
import { xgboostParams, type BoostingParams } from './xgboost-train.ts'

/*
  External trainers (the spec's Ray engine): native XGBoost in Python, on the split and preprocessing prepared here.
  - engine "python": external/train_xgboost.py runs as a plain child process where python3-xgboost exists.
  - engine "ray": the same script is submitted to a Ray cluster through Ray's Jobs REST API (RAY_ADDRESS), with its
    configuration in runtime_env.env_vars; the cluster fetches the script and the data from us with a per-job token.
  Either way the trainer posts to /train/result and /train/shap-result with that token. The in-process WASM trainer
  stays the default ("auto" picks Ray only when RAY_ADDRESS is set).
*/

export type Engine = 'wasm' | 'python' | 'ray'

// From the project root, so a bundle (build/) finds it too.
export const TRAINER_SCRIPT = path.join(PROJECT_ROOT, 'app/features/ml/external/train_xgboost.py')

let pythonChecked: { python: string; reason: string | null } | undefined

/** null when the trainer's Python has numpy and xgboost, else why not. */
export function pythonTrainerMissing(): string | null {
  const python = getEnv().HD_TRAINER_PYTHON
  if (pythonChecked?.python === python) return pythonChecked.reason
  const r = spawnSync(python, ['-c', 'import numpy, xgboost'], { encoding: 'utf8', timeout: 60_000 })
  const reason = r.status === 0 ? null : `${python} cannot import numpy and xgboost (install python3-xgboost)`
  pythonChecked = { python, reason }
  return reason
}

export function resolveEngine(requested: 'auto' | Engine): Engine {
  const env = getEnv()
  if (requested === 'auto') return env.RAY_ADDRESS ? 'ray' : 'wasm'
  if (requested === 'ray' && !env.RAY_ADDRESS) throw badRequest('engine', 'ray needs RAY_ADDRESS (a Ray cluster) on the server')
  if (requested === 'python') {
    const missing = pythonTrainerMissing()
    if (missing) throw new ApiError(422, 'VALIDATION_ERROR', `engine: ${missing}`, { field: 'engine', fields: [{ field: 'engine', message: missing }] })
  }
  return requested
}

/** Where trainers reach this server. */
export function callbackBase() {
  const env = getEnv()
  return (env.HD_CALLBACK_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/, '')
}

// ---------------------------------------------------------------- the per-job token

export interface TrainerClaims {
  train_id: number
  tenant_id: string
  job_id: string
  exp: number
}

const TOKEN_PREFIX = 'hdt1'

function mac(payload: string) {
  return crypto.createHmac('sha256', Buffer.from(signingKey())).update(`hd-trainer:${payload}`).digest('base64url')
}

/** A token that lets one external trainer read its input and post its results, for one job, until it expires. */
export function signTrainerToken(claims: Omit<TrainerClaims, 'exp'>, ttlSeconds = 24 * 3600) {
  const payload = Buffer.from(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + ttlSeconds })).toString('base64url')
  return `${TOKEN_PREFIX}.${payload}.${mac(payload)}`
}

/** The token's claims, or null when it is malformed, forged or expired. */
export function verifyTrainerToken(token: string): TrainerClaims | null {
  const [prefix, payload, sig] = token.split('.')
  if (prefix !== TOKEN_PREFIX || !payload || !sig) return null
  const want = Buffer.from(mac(payload))
  const got = Buffer.from(sig)
  if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return null
  try {
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TrainerClaims
    if (!Number.isInteger(c.train_id) || typeof c.tenant_id !== 'string' || typeof c.job_id !== 'string' || !(c.exp > Date.now() / 1000)) return null
    return c
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- the input file (HDML1)

const MAGIC = Buffer.from('HDML1\n')

/** The prepared data as one file the Python trainer reads with numpy (format in external/train_xgboost.py). */
export function encodeTrainerInput(input: ExternalInput, extra: Record<string, unknown>): Buffer {
  const F = input.preprocess.features.length
  const header = Buffer.from(
    JSON.stringify({
      version: 1,
      rows_train: input.trainY.length,
      rows_valid: input.validY.length,
      features: input.preprocess.features,
      feature_columns: featureOwners(input),
      classes: input.classes,
      missing: 'NaN',
      ...extra,
    }),
  )
  const len = Buffer.alloc(4)
  len.writeUInt32LE(header.length)
  const pad = Buffer.alloc((4 - ((MAGIC.length + 4 + header.length) % 4)) % 4)
  const parts = [input.trainX, input.trainY, input.validX, input.validY]
  if (input.trainX.length !== input.trainY.length * F || input.validX.length !== input.validY.length * F) throw new Error('trainer input: matrix shapes do not match')
  return Buffer.concat([MAGIC, len, header, pad, ...parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))])
}

function featureOwners(input: ExternalInput) {
  const out = new Array<string>(input.preprocess.features.length)
  for (const c of input.preprocess.columns) for (const f of c.features) out[f] = c.column
  return out
}

// ---------------------------------------------------------------- the trainer's configuration

export interface TrainerConfig {
  train_id: number
  job_id: string
  preprocess_id: string | null
  token: string
  input_url?: string
  input_path?: string
  result_url: string
  shap_url: string
  params: Record<string, string | number>
  num_boost_round: number
  early_stopping_rounds: number
  shap: boolean
  shap_rows: number
}

export function trainerConfig(opts: {
  trainId: number
  jobId: string
  tenantId: string
  input: ExternalInput
  boosting: BoostingParams
  shap: boolean
  shapRows: number
  inputPath?: string
}): TrainerConfig {
  const base = callbackBase()
  const { task } = opts.input
  let baseScore = 0.5
  if (task.kind === 'regression') baseScore = opts.input.trainY.reduce((s, v) => s + v, 0) / Math.max(1, opts.input.trainY.length)
  const params = xgboostParams(task, opts.boosting, baseScore)
  // Native XGBoost's names for the same settings; reg:linear is reg:squarederror there.
  const { silent: _silent, booster: _booster, ...rest } = params
  const native: Record<string, string | number> = { ...rest, objective: String(params.objective) === 'reg:linear' ? 'reg:squarederror' : params.objective }
  native.eval_metric = task.kind === 'regression' ? 'rmse' : task.kind === 'binary' ? 'logloss' : 'mlogloss'
  return {
    train_id: opts.trainId,
    job_id: opts.jobId,
    preprocess_id: null,
    token: signTrainerToken({ train_id: opts.trainId, tenant_id: opts.tenantId, job_id: opts.jobId }),
    ...(opts.inputPath ? { input_path: opts.inputPath } : { input_url: `${base}/api/v1/train/external/input?train_id=${opts.trainId}` }),
    result_url: `${base}/api/v1/train/result`,
    shap_url: `${base}/api/v1/train/shap-result`,
    params: native,
    num_boost_round: opts.boosting.n_estimators,
    early_stopping_rounds: opts.boosting.early_stopping_rounds,
    shap: opts.shap,
    shap_rows: opts.shapRows,
  }
}

// ---------------------------------------------------------------- engine "python": a plain process

/** Runs the trainer as a child process; resolves with its exit code and the end of its stderr. Aborting kills it. */
export function runPythonTrainer(config: TrainerConfig, signal: AbortSignal): Promise<{ code: number | null; stderr: string; pid: number | undefined }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const child = spawn(getEnv().HD_TRAINER_PYTHON, [TRAINER_SCRIPT], {
      env: { ...process.env, HD_TRAINER_CONFIG: JSON.stringify(config), OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000)
    })
    const onAbort = () => child.kill('SIGKILL')
    signal.addEventListener('abort', onAbort, { once: true })
    child.on('error', (e) => {
      signal.removeEventListener('abort', onAbort)
      reject(e)
    })
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort)
      if (signal.aborted) reject(signal.reason)
      else resolve({ code, stderr, pid: child.pid })
    })
  })
}

// ---------------------------------------------------------------- engine "ray": Ray's Jobs REST API

export type RayStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED'

function rayUrl(p: string) {
  const address = getEnv().RAY_ADDRESS
  if (!address) throw new Error('RAY_ADDRESS is not set')
  return `${address.replace(/\/+$/, '')}${p}`
}

/** The entrypoint a Ray worker runs: it fetches this repository's trainer script with the job's token and runs it. */
export function rayEntrypoint() {
  return `python -c "import os,urllib.request as u;exec(u.urlopen(u.Request(os.environ['HD_TRAINER_URL'],headers={'X-Trainer-Token':os.environ['HD_TRAINER_TOKEN']})).read())"`
}

async function rayFetch(p: string, init: RequestInit & { signal?: AbortSignal } = {}) {
  const res = await fetch(rayUrl(p), { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } })
  const text = await res.text()
  if (!res.ok) throw new Error(`Ray Jobs API ${init.method ?? 'GET'} ${p}: ${res.status} ${text.slice(0, 500)}`)
  return text ? (JSON.parse(text) as Record<string, unknown>) : {}
}

/** POST /api/jobs/: submits the trainer; returns Ray's submission id. */
export async function submitRayJob(config: TrainerConfig, submissionId: string, signal?: AbortSignal) {
  const body = {
    entrypoint: rayEntrypoint(),
    submission_id: submissionId,
    runtime_env: {
      env_vars: {
        HD_TRAINER_CONFIG: JSON.stringify(config),
        HD_TRAINER_URL: `${callbackBase()}/api/v1/train/external/trainer.py`,
        HD_TRAINER_TOKEN: config.token,
      },
    },
    metadata: { source: 'hot-dash', train_id: String(config.train_id), job_id: config.job_id },
  }
  const r = await rayFetch('/api/jobs/', { method: 'POST', body: JSON.stringify(body), signal })
  return String(r.submission_id ?? r.job_id ?? submissionId)
}

export async function rayJobStatus(submissionId: string, signal?: AbortSignal): Promise<{ status: RayStatus; message: string }> {
  const r = await rayFetch(`/api/jobs/${encodeURIComponent(submissionId)}`, { signal })
  return { status: String(r.status) as RayStatus, message: String(r.message ?? '') }
}

/** POST /api/jobs/{id}/stop. */
export async function stopRayJob(submissionId: string) {
  await rayFetch(`/api/jobs/${encodeURIComponent(submissionId)}/stop`, { method: 'POST' })
}

/** Waits for a Ray job to end, polling every `everyMs`; aborting stops it on the cluster. */
export async function waitForRayJob(submissionId: string, signal: AbortSignal, everyMs = 1000): Promise<{ status: RayStatus; message: string }> {
  for (;;) {
    if (signal.aborted) {
      await stopRayJob(submissionId).catch(() => {})
      throw signal.reason
    }
    const s = await rayJobStatus(submissionId)
    if (s.status === 'SUCCEEDED' || s.status === 'FAILED' || s.status === 'STOPPED') return s
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

export function trainerScript() {
  return fs.readFileSync(TRAINER_SCRIPT)
}
