import type { z } from 'zod'
import { badRequest } from '#app/http/errors.server.ts'
import { ICEBERG_NAME_RE, normalizeUsage } from '../model.ts'
import { uploadParams } from '../schemas.ts'

export type UploadParams = z.infer<typeof uploadParams> & { usage: string }

/** The upload's parameters from the form fields and the query string (which wins), checked: a 400 naming the field. */
export function checkParams(merged: Record<string, unknown>): UploadParams {
  const parsed = uploadParams.safeParse(merged)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw badRequest(String(i.path[0] ?? 'query'), i.message)
  }
  const p = parsed.data
  const usage = normalizeUsage(p.usage)
  if (!usage) throw badRequest('usage', 'must be one of p (prediction), t (training), f (forecasting), e (evaluation), o (other)')
  if (p.iceberg_table_name !== undefined && p.iceberg_table_name !== '' && !ICEBERG_NAME_RE.test(p.iceberg_table_name)) {
    throw badRequest('iceberg_table_name', 'use lower-case letters, digits and _, starting with a letter, at most 48 characters')
  }
  return { ...p, usage }
}
