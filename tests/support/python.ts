import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/*
  Debian's scientific Python (/usr/bin/python3 with scikit-learn, XGBoost, SciPy…) as an independent oracle. Not the
  `python3` first on PATH (a pyenv one without them). Tests skip, saying why, when a module is missing.
*/

export const PYTHON = process.env.ORACLE_PYTHON ?? '/usr/bin/python3'

const cache = new Map<string, string | null>()

/** null when every module imports, else the reason a test must skip. */
export function pythonMissing(...modules: string[]): string | null {
  const key = modules.join(',')
  if (cache.has(key)) return cache.get(key)!
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 60_000 })
  const reason = r.status === 0 ? null : `${PYTHON} cannot import ${modules.join(', ')} (${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()})`
  cache.set(key, reason)
  return reason
}

/** Prints why a suite is skipped (vitest shows skipped tests without reasons). */
export function skipReason(reason: string | null, what: string) {
  if (reason) console.warn(`[skip] ${what}: ${reason}`)
  return !!reason
}

/** A scratch directory removed by the caller's cleanup. */
export function scratchDir(prefix = 'hd-oracle-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** Runs a Python script with JSON on stdin; returns the last line it prints, parsed as JSON. */
export function runPython<T = unknown>(script: string, input: unknown, opts: { cwd?: string; timeoutMs?: number } = {}): T {
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore' },
  })
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`)
  // Libraries may print warnings to stdout first: the result is the last line.
  const lines = r.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as T
}

/** Writes a row-major float32 matrix where numpy.fromfile can read it. */
export function writeF32(file: string, data: Float32Array | Float64Array) {
  const f = data instanceof Float32Array ? data : Float32Array.from(data)
  fs.writeFileSync(file, Buffer.from(f.buffer, f.byteOffset, f.byteLength))
}
