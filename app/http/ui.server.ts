import { data } from 'react-router'
import { asCaller, type Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { type Caller, requireCaller, verifyCsrf } from '#app/features/auth/auth.server.ts'
import { toApiError } from './api-route.server.ts'
import { readFormData } from './body.server.ts'
import { logError } from './log.server.ts'

export interface ActionError {
  error: { code: string; message: string; fields: Record<string, string> }
}

/** A UI page's loader: the session caller (or a redirect to login), then the feature function as that caller. */
export async function uiLoader<T>(request: Request, permission: string | undefined, fn: (db: Sql, caller: Caller) => Promise<T>) {
  const { caller, headers } = await requireCaller(request, permission)
  const result = await asCaller(await getDb(), caller.claims, (tx) => fn(tx, caller))
  return data(result, { headers })
}

/**
 * A UI page's action: session + CSRF + permission, then the same feature function the API route calls.
 * Feature errors come back as `{ error: { message, fields } }` for inline display, with the API's status.
 */
export async function uiAction<T>(
  request: Request,
  permission: string | undefined,
  fn: (db: Sql, caller: Caller, form: FormData) => Promise<T>,
) {
  const { caller, headers } = await requireCaller(request, permission)
  try {
    await verifyCsrf(request, caller)
    const form = await readFormData(request)
    const result = await asCaller(await getDb(), caller.claims, (tx) => fn(tx, caller, form))
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
