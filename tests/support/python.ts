import { execFileSync, spawnSync } from 'node:child_process'

/**
 * Debian's scientific Python (/usr/bin/python3: SciPy, statsmodels, scikit-learn, pandas) as an independent oracle.
 * `pythonOracle(modules)` says whether it can run, and why not; `runPython` sends JSON on stdin and reads JSON back.
 */
const PYTHON = '/usr/bin/python3'

const cache = new Map<string, string | null>()

/** null when every module imports, else the reason the oracle is skipped (print it). */
export function pythonMissing(modules: string[]): string | null {
  const key = modules.join(',')
  if (!cache.has(key)) {
    const r = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' })
    cache.set(key, r.status === 0 ? null : `${PYTHON} cannot import ${key}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`)
  }
  return cache.get(key)!
}

export function runPython<T = any>(script: string, input: unknown): T {
  const out = execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  return JSON.parse(out) as T
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

/** Per-test timeout for tests that start Python: importing statsmodels / scikit-learn takes seconds on a busy machine. */
export const ORACLE_TIMEOUT = 180_000
