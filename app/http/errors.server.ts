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
  | 'PAYMENT_REQUIRED'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
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
  const e = err as { code?: string; message?: string; detail?: string; constraint?: string; constraint_name?: string; column?: string; column_name?: string; table?: string; table_name?: string }
  if (!e || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return undefined
  switch (e.code) {
    // The other row's key values (detail) and the schema's names stay in the log; the answer names the field.
    case '23505': {
      const field = keyField(e) ?? 'value'
      return conflict(`${field}: a record with this ${field} already exists`, { field, fields: [{ field, message: 'already exists' }] })
    }
    case '23503': {
      const field = keyField(e) ?? 'value'
      return conflict(`${field}: refers to a record that does not exist, or is still referred to`, { field, fields: [{ field, message: 'does not exist or is still in use' }] })
    }
    case '23502': {
      const column = e.column ?? e.column_name
      return new ApiError(400, 'VALIDATION_ERROR', `${column ?? 'field'}: is required`, {
        fields: [{ field: column ?? 'unknown', message: 'is required' }],
      })
    }
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

/**
 * The column a key violation is about. From Postgres's detail when it gives one (`Key (tenant_id, lower(email))=(…)`
 * gives `email`: the tenant is implied by the caller); under RLS it gives none, so from the constraint's name as
 * Postgres forms it (`profiles_tenant_id_username_key` on `profiles` gives `username`).
 */
export function keyField(e: { detail?: string; constraint?: string; constraint_name?: string; table?: string; table_name?: string }): string | undefined {
  const key = /^Key \((.+?)\)=\(/.exec(e.detail ?? '')?.[1]
  if (key) {
    const columns = key.split(',').map((part) => /([a-z_][a-z0-9_]*)(?:::[\w ]+)?\)*\s*$/i.exec(part.trim())?.[1]).filter((c): c is string => !!c)
    return columns.filter((c) => c !== 'tenant_id').at(-1) ?? columns.at(-1)
  }
  // PGlite names the fields as pg does (constraint, table), postgres.js as the protocol does (constraint_name, table_name).
  const table = e.table ?? e.table_name
  let name = e.constraint ?? e.constraint_name
  if (!name) return undefined
  if (table && name.startsWith(`${table}_`)) name = name.slice(table.length + 1)
  name = name.replace(/_(key|fkey|idx|index|unique|uniq)$/, '').replace(/^tenant_id_/, '')
  return /^[a-z_][a-z0-9_]*$/i.test(name) ? name : undefined
}

/** What the log keeps of a database error the answer leaves out; undefined for other errors. */
export function databaseDetail(err: unknown): { sqlstate: string; detail?: string; constraint?: string } | undefined {
  const e = err as { code?: unknown; detail?: string; constraint?: string; constraint_name?: string }
  if (err instanceof ApiError || typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return undefined
  return { sqlstate: e.code, detail: e.detail, constraint: e.constraint ?? e.constraint_name }
}

export function errorBody(err: ApiError, requestId: string) {
  return {
    status: 'error' as const,
    error: { code: err.code, message: err.message, details: err.details },
    timestamp: new Date().toISOString(),
    request_id: requestId,
  }
}
