import { data } from 'react-router'
import { asCaller, scopedTo, type Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { type Caller, callerChanged, requireCaller, verifyCsrf } from '#app/features/auth/auth.server.ts'
import { toApiError } from './api-route.server.ts'
import { ApiError } from './errors.server.ts'
import { readFormData } from './body.server.ts'
import { logError } from './log.server.ts'

export interface ActionError {
  error: { code: string; message: string; fields: Record<string, string> }
}

/**
 * A UI page's loader: the session caller (or a redirect to login), then the feature function as that caller.
 * A feature's 4xx (an unknown or another tenant's id, a bad query) becomes that status's error page, not a 500.
 */
export async function uiLoader<T>(request: Request, permission: string | undefined, fn: (db: Sql, caller: Caller) => Promise<T>, opts: { transaction?: boolean } = {}) {
  const { caller, headers } = await requireCaller(request, permission)
  try {
    return data(await callerDb(caller, fn, opts.transaction), { headers })
  } catch (e) {
    throw pageError(e, headers)
  }
}

/** A thrown feature error as the error page's response: 4xx keep their status and message; the rest stay crashes. */
export function pageError(e: unknown, headers?: HeadersInit) {
  if (e instanceof Response || !(e instanceof ApiError) || e.status >= 500) return e
  return data({ code: e.code, message: e.message }, { status: e.status, statusText: e.message, headers })
}

/** One caller transaction (default), or one short caller transaction per statement (`transaction: false`). */
async function callerDb<T>(caller: Caller, fn: (db: Sql, caller: Caller) => Promise<T>, transaction = true) {
  const db = await getDb()
  return transaction ? asCaller(db, caller.claims, (tx) => fn(tx, caller)) : fn(scopedTo(db, caller.claims), caller)
}

/**
 * A UI page's action: session + CSRF + permission, then the same feature function the API route calls.
 * Feature errors come back as `{ error: { message, fields } }` for inline display, with the API's status.
 * `transaction: false` (loader too): for features that open their own transactions (on PGlite's one connection an
 * open caller transaction would hold them up), as the API routes' option of the same name.
 */
export async function uiAction<T>(
  request: Request,
  permission: string | undefined,
  fn: (db: Sql, caller: Caller, form: FormData) => Promise<T>,
  opts: { transaction?: boolean } = {},
) {
  const { caller, headers } = await requireCaller(request, permission)
  try {
    await verifyCsrf(request, caller)
    const form = await readFormData(request)
    const result = await callerDb(caller, (db, c) => fn(db, c, form), opts.transaction)
    // an action may have changed who can do what (roles, users, keys): this process sees it on the next request
    callerChanged(await getDb(), caller.tenantId)
    return data({ ok: true as const, result }, { headers })
  } catch (e) {
    const err = toApiError(e)
    if (err.status >= 500) logError(e, { path: new URL(request.url).pathname })
    const fields: Record<string, string> = {}
    for (const f of (err.details.fields as { field: string; message: string }[] | undefined) ?? []) fields[f.field] = f.message
    return data({ ok: false as const, error: { code: err.code, message: err.message, fields } }, { status: err.status, headers })
  }
}

/** FormData → plain object of strings (for zod). */
export function formObject(form: FormData): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of form) if (typeof v === 'string' && k !== 'csrf' && k !== 'intent') out[k] = v
  return out
}

/** A page's numeric id from the URL; anything else is -1, which matches no row (so the page answers 404, not a 500). */
export function idParam(value: string | undefined): number {
  const id = Number(value)
  return Number.isSafeInteger(id) && id > 0 ? id : -1
}
