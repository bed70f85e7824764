/*
  The judgements of a deploy (decision 063), pure: whether a version's live window breaches the rollback threshold,
  whether a health check passed, when a canary step may grow. No database.
*/

export interface Threshold {
  error_rate?: number
  response_time?: number
}

/** The new version's executions since it took traffic: ran = successes + errors (bad input and quota refusals excluded). */
export interface Window {
  ran: number
  errors: number
  /** mean latency of the successes, ms; null without any */
  avg_response_time: number | null
}

export interface Verdict {
  /** enough executions to judge (at least min_executions) */
  judged: boolean
  breached: boolean
  error_rate: number | null
  reasons: string[]
}

const pct = (x: number) => `${(100 * x).toFixed(2).replace(/\.?0+$/, '')}%`

/** Breached when, over at least `minExecutions`, the error rate or the mean latency is above the threshold (equal holds). */
export function judgeWindow(w: Window, t: Threshold, minExecutions: number): Verdict {
  const error_rate = w.ran ? w.errors / w.ran : null
  if (w.ran < minExecutions) return { judged: false, breached: false, error_rate, reasons: [] }
  const reasons: string[] = []
  if (t.error_rate !== undefined && error_rate !== null && error_rate > t.error_rate) {
    reasons.push(`error rate ${pct(error_rate)} (${w.errors} of ${w.ran}) is above the threshold ${pct(t.error_rate)}`)
  }
  if (t.response_time !== undefined && w.avg_response_time !== null && w.avg_response_time > t.response_time) {
    reasons.push(`mean response time ${w.avg_response_time.toFixed(1)} ms is above the threshold ${t.response_time} ms`)
  }
  return { judged: true, breached: reasons.length > 0, error_rate, reasons }
}

export interface SampleRun {
  ok: boolean
  latency_ms: number
  code?: string
  message?: string
}

export interface HealthCheck {
  samples: number
  passed: number
  failed: number
  error_rate: number | null
  avg_response_time: number | null
  ok: boolean
  reasons: string[]
  failures: { sample: number; code: string; message: string }[]
}

/**
 * A health check over the recorded inputs: passes when the share of failed samples is at most the threshold's
 * error_rate (none may fail without one) and the samples' mean latency is within its response_time. No samples: fails.
 */
export function judgeHealth(runs: SampleRun[], t: Threshold): HealthCheck {
  const failed = runs.filter((r) => !r.ok)
  const ok = runs.filter((r) => r.ok)
  const avg = ok.length ? ok.reduce((s, r) => s + r.latency_ms, 0) / ok.length : null
  const error_rate = runs.length ? failed.length / runs.length : null
  const reasons: string[] = []
  if (!runs.length) reasons.push('no recorded inputs: the asset has no successful executions to check the new version against')
  else {
    const allowed = t.error_rate ?? 0
    if (error_rate! > allowed) reasons.push(`${failed.length} of ${runs.length} recorded inputs failed on the new version (allowed: ${pct(allowed)})`)
    if (t.response_time !== undefined && avg !== null && avg > t.response_time) reasons.push(`mean response time ${avg.toFixed(1)} ms on the recorded inputs is above the threshold ${t.response_time} ms`)
  }
  return {
    samples: runs.length,
    passed: ok.length,
    failed: failed.length,
    error_rate,
    avg_response_time: avg === null ? null : Math.round(avg * 100) / 100,
    ok: reasons.length === 0,
    reasons,
    failures: runs
      .map((r, i) => ({ r, i }))
      .filter(({ r }) => !r.ok)
      .slice(0, 10)
      .map(({ r, i }) => ({ sample: i, code: r.code ?? 'INTERNAL_ERROR', message: r.message ?? 'failed' })),
  }
}

/** A canary step grows once it has lasted its interval and seen min_executions of the new version. */
export function stepDue(stepRan: number, stepSeconds: number, intervalSeconds: number, minExecutions: number) {
  return stepSeconds >= intervalSeconds && stepRan >= minExecutions
}
