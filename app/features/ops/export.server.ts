import { z } from 'zod'
import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { badRequest, forbidden } from '#app/http/errors.server.ts'
import { redactPii } from './redact.ts'

/*
  Training-data export (HD spec: POST /export/training-data). Only service_role callers or admins holding
  analytics.export; personal data is redacted unless include_pii is asked for AND the caller holds
  analytics.export_pii. Rows are read in keyset pages of PAGE rows, each in its own short caller transaction, and
  streamed out as JSON or CSV, so a large range never sits in memory.
*/

const PAGE = 1000
const MAX_RANGE_DAYS = 366
const DAY = 86_400_000

export const exportBody = z
  .object({
    include_pii: z.boolean('must be true or false').default(false),
    date_from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    date_to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    format: z.enum(['json', 'csv'], 'must be json or csv').default('json'),
  })
  .strict()
export type ExportBody = z.infer<typeof exportBody>

export const EXPORT_COLUMNS = [
  'conversation_id', 'input_text', 'model_draft', 'safe_to_send', 'category', 'sentiment', 'tone', 'accuracy_score',
  'helpfulness_score', 'tone_score', 'notes', 'confidence', 'response_time_ms', 'created_at',
] as const

/** Who may export: service_role, or an admin with analytics.export. */
export function assertMayExport(caller: Pick<Caller, 'kind' | 'roles' | 'permissions'>, includePii: boolean) {
  const service = caller.kind === 'service'
  if (!service && !(caller.roles.includes('admin') && caller.permissions.has('analytics.export'))) {
    throw forbidden('Training-data export is for service_role or admins with analytics.export', { permission: 'analytics.export' })
  }
  if (includePii && !service && !caller.permissions.has('analytics.export_pii')) {
    throw forbidden('include_pii needs the analytics.export_pii permission', { field: 'include_pii', permission: 'analytics.export_pii' })
  }
}

export function exportRange(body: ExportBody, now = new Date()) {
  const to = body.date_to ? new Date(body.date_to) : now
  const from = body.date_from ? new Date(body.date_from) : new Date(to.getTime() - 30 * DAY)
  if (from > to) throw badRequest('date_from', 'must not be after date_to')
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY) throw badRequest('date_to', `the range must be at most ${MAX_RANGE_DAYS} days`)
  return { from, to }
}

interface ExportRow {
  id: number
  created_at: Date
  [k: string]: unknown
}

/** Yields the export's rows page by page; `sql` should open a transaction per statement for long exports. */
export async function* trainingRows(sql: Sql, opts: { includePii: boolean; from: Date; to: Date }): AsyncGenerator<Record<string, unknown>> {
  let after: { created_at: Date; id: number } | null = null
  for (;;) {
    const res: { rows: ExportRow[] } = await sql.query<ExportRow>(
      `select * from analytics.export_training_dataset($1, $2::timestamptz, $3::timestamptz, $4::timestamptz, $5::bigint, $6::int)`,
      [opts.includePii, opts.from.toISOString(), opts.to.toISOString(), after?.created_at.toISOString() ?? null, after?.id ?? 0, PAGE],
    )
    const rows: ExportRow[] = res.rows
    for (const r of rows) {
      const out: Record<string, unknown> = {}
      for (const c of EXPORT_COLUMNS) out[c] = r[c]
      // The SQL function already removed the linked customer's own names, email and phone; this catches the rest.
      if (!opts.includePii) {
        out.input_text = redactPii(r.input_text as string)
        out.model_draft = redactPii(r.model_draft as string)
        out.notes = redactPii(r.notes as string | null)
      }
      out.created_at = new Date(r.created_at).toISOString()
      yield out
    }
    if (rows.length < PAGE) return
    const last: ExportRow = rows[rows.length - 1]
    after = { created_at: new Date(last.created_at), id: last.id }
  }
}

function csvCell(v: unknown) {
  if (v == null) return ''
  const s = String(v)
  // quote when needed; a leading = + - @ is prefixed so spreadsheets do not run it as a formula
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/** The streamed HTTP response. The first page is read before answering, so a refusal is a proper 4xx, not a cut stream. */
export async function exportResponse(sql: Sql, caller: Caller, body: ExportBody): Promise<Response> {
  assertMayExport(caller, body.include_pii)
  const { from, to } = exportRange(body)
  const rows = trainingRows(sql, { includePii: body.include_pii, from, to })
  let pending = await rows.next()
  const enc = new TextEncoder()
  let first = true
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(body.format === 'csv' ? EXPORT_COLUMNS.join(',') + '\r\n' : '['))
    },
    async pull(controller) {
      try {
        let chunk = ''
        for (let n = 0; n < 500 && !pending.done; n++) {
          const r = pending.value
          chunk += body.format === 'csv' ? EXPORT_COLUMNS.map((c) => csvCell(r[c])).join(',') + '\r\n' : (first ? '' : ',') + JSON.stringify(r)
          first = false
          pending = await rows.next()
        }
        if (chunk) controller.enqueue(enc.encode(chunk))
        if (pending.done) {
          if (body.format === 'json') controller.enqueue(enc.encode(']'))
          controller.close()
        }
      } catch (e) {
        controller.error(e)
      }
    },
    async cancel() {
      await rows.return(undefined)
    },
  })
  const stamp = `${from.toISOString().slice(0, 10)}_${to.toISOString().slice(0, 10)}`
  return new Response(stream, {
    status: 200,
    headers: {
      'Content-Type': body.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="training-data_${stamp}${body.include_pii ? '_pii' : ''}.${body.format}"`,
      'X-PII-Redacted': body.include_pii ? 'false' : 'true',
    },
  })
}
