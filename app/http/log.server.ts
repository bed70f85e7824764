/** One JSON line per request on stdout; errors with their stack on stderr. */
export interface RequestLog {
  request_id: string
  method: string
  path: string
  user_id: string | null
  tenant_id: string | null
  status_code: number
  response_time_ms: number
  cache_hit: boolean
}

const enabled = () => process.env.LOG_REQUESTS !== 'false' && process.env.NODE_ENV !== 'test'

export function logRequest(entry: RequestLog) {
  if (!enabled()) return
  process.stdout.write(JSON.stringify({ timestamp: new Date().toISOString(), level: 'info', ...entry }) + '\n')
}

export function logError(err: unknown, context: Record<string, unknown> = {}) {
  const e = err as Error
  if (process.env.NODE_ENV === 'test' && process.env.LOG_ERRORS !== 'true') return
  process.stderr.write(
    JSON.stringify({
      timestamp: new Date().toISOString(),
      level: 'error',
      message: e?.message ?? String(err),
      stack_trace: e?.stack,
      ...context,
    }) + '\n',
  )
}
