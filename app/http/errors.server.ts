import { z } from 'zod'

export type ErrorCode =
  | 'AUTH_REQUIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION_ERROR'
  | 'RATE_LIMIT_EXCEEDED'
  | 'INVALID_DATASET'
  | 'INSUFFICIENT_DATA'
  | 'MODEL_TRAINING_FAILED'
  | 'CONFLICT'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'DATABASE_ERROR'
  | 'INTERNAL_ERROR'

// The server entry (tsx) and the React Router build each load their own copy of this module, and objects made by
// one (the auth provider, set up at boot) throw into the other: instanceof goes by a registered symbol, not the class.
const API_ERROR = Symbol.for('hot-dash.ApiError')

/** An error that becomes the one error envelope. Throw it anywhere below a route. */
export class ApiError extends Error {
  readonly [API_ERROR] = true

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [API_ERROR]?: unknown })[API_ERROR] === true
  }

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

export const authRequired = (message = 'Valid credentials required') => new ApiError(401, 'AUTH_REQUIRED', message)
export const forbidden = (message = 'You do not have permission to do this', details = {}) =>
  new ApiError(403, 'FORBIDDEN', message, details)
export const notFound = (what: string, id?: unknown) =>
  new ApiError(404, 'NOT_FOUND', `${what} not found`, id === undefined ? {} : { id })
export const conflict = (message: string, details = {}) => new ApiError(409, 'CONFLICT', message, details)
export const badRequest = (field: string, message: string, details: Record<string, unknown> = {}) =>
  new ApiError(400, 'VALIDATION_ERROR', `${field}: ${message}`, { field, fields: [{ field, message }], ...details })

export interface FieldIssue {
  field: string
  message: string
}

/** A zod failure as a 400 that names every field that failed. */
export function fromZod(error: z.ZodError, where: 'query' | 'body' | 'params' | 'form'): ApiError {
  const fields: FieldIssue[] = error.issues.map((i) => ({
    field: i.path.length ? i.path.join('.') : where,
    message: i.message,
  }))
  const first = fields[0]
  return new ApiError(400, 'VALIDATION_ERROR', `${first.field}: ${first.message}`, { location: where, fields })
}

/** Postgres errors that are the caller's fault become 4xx; the rest stay 500. */
export function fromDatabase(err: unknown): ApiError | undefined {
  const e = err as { code?: string; message?: string; detail?: string; constraint?: string; column?: string }
  if (!e || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return undefined
  switch (e.code) {
    case '23505':
      return conflict('A record with the same unique value already exists', { constraint: e.constraint, detail: e.detail })
    case '23503':
      return conflict(e.message ?? 'Referenced record does not exist or is still in use', { constraint: e.constraint })
    case '23502':
      return new ApiError(400, 'VALIDATION_ERROR', `${e.column ?? 'field'}: is required`, {
        fields: [{ field: e.column ?? 'unknown', message: 'is required' }],
      })
    case '23514':
    case '22P02':
    case '22007':
    case '22008':
    case '22003':
    case '22001':
    case '22021': // character not in repertoire (e.g. a NUL byte)
    case '22P05': // untranslatable character
    case '54000': // program limit exceeded (row too wide, too many columns)
      return new ApiError(400, 'VALIDATION_ERROR', e.message ?? 'Invalid value', { constraint: e.constraint })
    case '42501':
      return forbidden('You do not have permission to do this')
    case 'P0002':
      return notFound('Record')
    default:
      return undefined
  }
}

export function errorBody(err: ApiError, requestId: string) {
  return {
    status: 'error' as const,
    error: { code: err.code, message: err.message, details: err.details },
    timestamp: new Date().toISOString(),
    request_id: requestId,
  }
}
