import fs from 'node:fs'
import path from 'node:path'
import { json, type TestApp, type TestUser } from './app.ts'

export interface BodyOptions {
  /** Form fields sent before the files. */
  before?: Record<string, string>
  /** Form fields sent after the files. */
  after?: Record<string, string>
  /** The body breaks off with an error once this many bytes are sent (the client went away). */
  breakAt?: number
  /** The client stops sending at this byte until `resume` settles (a slow or stalled client). */
  pauseAt?: number
  resume?: Promise<unknown>
  /** From byte `from` on, the client waits `everyMs` before each 64 KiB piece (an honest slow client). */
  pace?: { from: number; everyMs: number }
}

/**
 * A multipart body: `before` fields, the files (part `files`, named live-<i>.csv), `after` fields, sent in 64 KiB
 * pieces with short pauses, so the server works on it while it arrives.
 */
export function multipartBody(boundary: string, files: string[], o: BodyOptions = {}) {
  const field = (k: string, v: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`
  const file = (text: string, i: number) => `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="live-${i}.csv"\r\nContent-Type: text/csv\r\n\r\n${text}\r\n`
  const text = [...Object.entries(o.before ?? {}).map(([k, v]) => field(k, v)), ...files.map(file), ...Object.entries(o.after ?? {}).map(([k, v]) => field(k, v)), `--${boundary}--\r\n`]
  const bytes = Buffer.from(text.join(''))
  let pos = 0
  let resume = o.resume
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (o.breakAt !== undefined && pos >= o.breakAt) return c.error(new Error('the client went away'))
      if (o.pauseAt !== undefined && pos >= o.pauseAt && resume) {
        await resume
        resume = undefined
      }
      if (pos >= bytes.length) return c.close()
      if (o.pace && pos >= o.pace.from) await new Promise((r) => setTimeout(r, o.pace!.everyMs))
      c.enqueue(bytes.subarray(pos, pos + 65536))
      pos += 65536
      if (pos % (1024 * 1024) === 0) await new Promise((r) => setTimeout(r, 5))
    },
  })
}

/** Sends a streamed multipart body to an upload endpoint (default POST /api/v1/dataset/upload?qs) as `user`. */
export function sendMultipart(app: TestApp, user: TestUser, qs: string, stream: ReadableStream<Uint8Array>, boundary: string, endpoint = '/api/v1/dataset/upload') {
  return json(
    app.fetch(`${endpoint}?${qs}`, {
      method: 'POST',
      headers: { ...user.auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: stream,
      duplex: 'half',
    } as RequestInit),
  )
}

/** A manual gate: `release()` opens it; it opens by itself after `maxMs` so a failing test cannot hang. */
export function gate(maxMs = 20_000) {
  let release = () => {}
  const opened = new Promise<void>((r) => {
    release = r
    setTimeout(r, maxMs)
  })
  return { opened, release }
}

/** What an upload of tenant `tenantId` may leave behind: dataset rows, datalake tables, staged tables, stored files. */
export async function uploadLeftovers(app: TestApp, tenantId: string) {
  const { rows } = await app.db.query<{ datasets: number; tables: number; staged: number }>(
    `select (select count(*)::int from public.datasets where tenant_id = $1) as datasets,
            (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname in ('bronze', 'silver') and c.relname like $2) as tables,
            (select count(*)::int from public.datalake_staging) as staged`,
    [tenantId, `t_${tenantId.replace(/-/g, '').slice(0, 8)}_%`],
  )
  const dir = path.resolve(process.env.DATA_DIR ?? '.data', 'files', 'tenants', tenantId)
  const files = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length : 0
  return { ...rows[0], files }
}
