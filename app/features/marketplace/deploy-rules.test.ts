import { describe, expect, it } from 'vitest'
import { judgeHealth, judgeWindow, stepDue } from './deploy-rules.ts'

describe('judgeWindow', () => {
  it('judges only from min_executions on; equal to the threshold holds, above breaches', () => {
    expect(judgeWindow({ ran: 3, errors: 3, avg_response_time: 10 }, { error_rate: 0.1 }, 4)).toMatchObject({ judged: false, breached: false, error_rate: 1 })
    expect(judgeWindow({ ran: 10, errors: 1, avg_response_time: 10 }, { error_rate: 0.1 }, 4)).toMatchObject({ judged: true, breached: false, error_rate: 0.1 })
    const v = judgeWindow({ ran: 10, errors: 2, avg_response_time: 10 }, { error_rate: 0.1 }, 4)
    expect(v).toMatchObject({ judged: true, breached: true, error_rate: 0.2 })
    expect(v.reasons).toEqual(['error rate 20% (2 of 10) is above the threshold 10%'])
  })
  it('the mean latency against response_time; no successes, no latency verdict', () => {
    expect(judgeWindow({ ran: 5, errors: 0, avg_response_time: 501 }, { response_time: 500 }, 5).reasons).toEqual(['mean response time 501.0 ms is above the threshold 500 ms'])
    expect(judgeWindow({ ran: 5, errors: 0, avg_response_time: 500 }, { response_time: 500 }, 5).breached).toBe(false)
    expect(judgeWindow({ ran: 5, errors: 5, avg_response_time: null }, { response_time: 500 }, 5).breached).toBe(false)
  })
})

describe('judgeHealth', () => {
  it('fails without samples, or with more failures than the error rate allows (none without a threshold)', () => {
    expect(judgeHealth([], {})).toMatchObject({ ok: false, samples: 0 })
    const runs = [{ ok: true, latency_ms: 10 }, { ok: true, latency_ms: 30 }, { ok: false, latency_ms: 5, code: 'DATABASE_ERROR', message: 'division by zero' }]
    expect(judgeHealth(runs, {})).toMatchObject({ ok: false, passed: 2, failed: 1, error_rate: 1 / 3, avg_response_time: 20, failures: [{ sample: 2, code: 'DATABASE_ERROR' }] })
    expect(judgeHealth(runs, { error_rate: 0.5 }).ok).toBe(true)
    expect(judgeHealth(runs, { error_rate: 0.5, response_time: 15 }).reasons).toEqual(['mean response time 20.0 ms on the recorded inputs is above the threshold 15 ms'])
  })
})

describe('stepDue', () => {
  it('needs both the interval and the executions', () => {
    expect(stepDue(10, 59, 60, 5)).toBe(false)
    expect(stepDue(4, 61, 60, 5)).toBe(false)
    expect(stepDue(5, 60, 60, 5)).toBe(true)
  })
})
