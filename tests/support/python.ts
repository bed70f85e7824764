import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Debian's scientific Python (/usr/bin/python3: SciPy, statsmodels, scikit-learn, pandas, XGBoost) as an independent
 * oracle — not the `python3` first on PATH (a pyenv one without them). `pythonMissing(modules)` says whether it can
 * run, and why not; `runPython` sends JSON on stdin and reads JSON back.
 */
export const PYTHON = process.env.ORACLE_PYTHON ?? '/usr/bin/python3'

const cache = new Map<string, string | null>()

/** null when every module imports, else the reason the oracle is skipped (print it). */
export function pythonMissing(modules: string[]): string | null {
  const key = modules.join(',')
  if (!cache.has(key)) {
    const r = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8', timeout: 120_000 })
    cache.set(key, r.status === 0 ? null : `${PYTHON} cannot import ${key}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`)
  }
  return cache.get(key)!
}

/**
 * Runs a script with JSON on stdin; returns what it printed, parsed as JSON (the last line, when libraries printed
 * warnings before it).
 */
export function runPython<T = any>(script: string, input: unknown, opts: { cwd?: string; timeoutMs?: number } = {}): T {
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 180_000,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore' },
  })
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr || r.error?.message}`)
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    const lines = r.stdout.trim().split('\n')
    return JSON.parse(lines[lines.length - 1]) as T
  }
}

/** Prints why an oracle check is skipped, once per reason. */
const told = new Set<string>()
export function skipNote(what: string, reason: string) {
  const line = `[oracle skipped] ${what}: ${reason}`
  if (!told.has(line)) {
    told.add(line)
    console.log(line)
  }
}

/** For describe.skipIf: true (and the reason printed) when the oracle cannot run. */
export function skipReason(reason: string | null, what: string) {
  if (reason) skipNote(what, reason)
  return !!reason
}

/** Per-test timeout for tests that start Python: importing statsmodels / scikit-learn takes seconds on a busy machine. */
export const ORACLE_TIMEOUT = 180_000

/** A scratch directory; the caller removes it. */
export function scratchDir(prefix = 'hd-oracle-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** Writes a row-major float32 matrix where numpy.fromfile can read it. */
export function writeF32(file: string, data: Float32Array | Float64Array) {
  const f = data instanceof Float32Array ? data : Float32Array.from(data)
  fs.writeFileSync(file, Buffer.from(f.buffer, f.byteOffset, f.byteLength))
}
