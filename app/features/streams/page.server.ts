import { data } from 'react-router'
import { asCaller } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { requireCaller, verifyCsrf } from '#app/features/auth/auth.server.ts'
import { toApiError } from '#app/http/api-route.server.ts'
import { forbidden } from '#app/http/errors.server.ts'
import { sampleEvents } from './forms.ts'
import { ingestEvents, loadStream } from './streams.server.ts'

/** The Streams page's "Send test events": a batch of sample events through the http source, as the session's user. */
export async function sendSampleEvents(request: Request, id: string, spike: boolean) {
  const { caller, headers } = await requireCaller(request, 'analytics.write')
  try {
    await verifyCsrf(request, caller)
    if (!caller.permissions.has('analytics.write')) throw forbidden("This needs the 'analytics.write' permission")
    const s = await asCaller(await getDb(), caller.claims, (tx) => loadStream(tx, id))
    const events = sampleEvents(spike ? 20 : 50, { timeField: s.analytics.time_field, valueField: s.analytics.value_field, groupBy: s.analytics.group_by, spike })
    const result = await ingestEvents(caller, id, { events })
    return data({ ok: true as const, result }, { headers })
  } catch (e) {
    const err = toApiError(e)
    return data({ ok: false as const, error: { code: err.code, message: err.message, fields: {} as Record<string, string> } }, { status: err.status, headers })
  }
}
