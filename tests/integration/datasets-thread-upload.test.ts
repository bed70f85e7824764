import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uploadCounters } from '#app/features/datasets/upload/admission.server.ts'
import { getThreadPool } from '#app/jobs/thread-pool.server.ts'
import { createTemplate, setupTestApp, uploadCsv, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { gate, multipartBody, sendMultipart, uploadLeftovers } from '#tests/support/multipart.ts'

/**
 * Large files are parsed on a pool thread while the request's thread feeds Postgres; on Postgres the thread writes
 * into shared slots that the request's thread gives back once written (datasets/load/slot-ring.server.ts). Small test files never reach
 * the 4 MiB threshold, so this suite lowers it to 0 and checks what lands in silver, bronze and the error report
 * against the rows as generated, on both engines, twice in a row (the second upload reuses the first's slots).
 * On Postgres these uploads are loaded while they arrive (their parameters are in the query string): the last
 * suite checks that path's failures.
 */

let app: TestApp
let t: TestTenant
let templateId: number
const saved = process.env.HD_UPLOAD_THREAD_MIN_BYTES

beforeAll(async () => {
  process.env.HD_UPLOAD_THREAD_MIN_BYTES = '0'
  app = await setupTestApp()
  t = await app.createTenant()
  templateId = await createTemplate(app, t.admin, 'T', [
    { column_name: 'id', data_type: 'Integer' },
    { column_name: 'amount', data_type: 'Float' },
    { column_name: 'label', data_type: 'String' },
    { column_name: 'day', data_type: 'Date' },
  ])
})
afterAll(async () => {
  if (saved === undefined) delete process.env.HD_UPLOAD_THREAD_MIN_BYTES
  else process.env.HD_UPLOAD_THREAD_MIN_BYTES = saved
  await app.close()
})

/** ~3.5 MB: several 1 MiB chunks. Every 500th row has a bad amount, every 700th a bad day. */
function generate(n: number, seed: number) {
  let text = 'id,amount,label,day\n'
  let valid = 0
  let idSum = 0
  let amountCents = 0
  const bad: number[] = []
  for (let i = 1; i <= n; i++) {
    const badAmount = i % 500 === 0
    const badDay = i % 700 === 0
    const cents = (i * 7919 + seed) % 100000
    const amount = badAmount ? 'lots' : `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
    const day = badDay ? '2024-02-30' : `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`
    const label = i % 11 ? `item ${i}` : `"quoted, ""${i}"""`
    text += `${i + seed},${amount},${label},${day}\n`
    if (badAmount || badDay) bad.push(i)
    else {
      valid++
      idSum += i + seed
      amountCents += cents
    }
  }
  return { text, valid, idSum, amountCents, bad }
}

async function tablesOf(datasetId: number) {
  const { rows } = await app.db.query<{ schema_name: string; table_name: string }>(`select schema_name, table_name from public.dataset_tables where dataset_id = $1`, [datasetId])
  return Object.fromEntries(rows.map((r) => [r.schema_name, `${r.schema_name}."${r.table_name}"`]))
}

describe('upload parsed on a pool thread', () => {
  it.each([
    ['first', 1],
    ['second (slots reused)', 1000],
  ])('loads exactly the generated rows: %s', async (_, seed) => {
    const n = 90_000
    const g = generate(n, seed)
    expect(g.text.length).toBeGreaterThan(3 * 1024 * 1024)
    const live = uploadCounters.live
    const r = await uploadCsv(app, t.admin, `dataset_name=thread-${seed}&usage=t&template_id=${templateId}`, g.text)
    expect(r.status).toBe(201)
    // Postgres: read from the body as it arrived, not from the stored file; PGlite never holds its one connection so.
    expect(uploadCounters.live - live).toBe(app.db.engine === 'postgres' ? 1 : 0)
    const stored = await app.db.query<{ size_bytes: string }>(`select size_bytes::text from public.dataset_files where dataset_id = $1`, [r.body.dataset_id])
    expect(stored.rows[0].size_bytes).toBe(String(Buffer.byteLength(g.text)))
    const f = r.body.files[0]
    expect(f.total_records).toBe(n)
    expect(f.error_report.invalid_rows).toBe(g.bad.length)

    const tables = await tablesOf(r.body.dataset_id)
    const silver = await app.db.query<{ n: number; ids: string; cents: string; rows_ok: boolean }>(
      `select count(*)::int as n, sum(id)::text as ids, sum(round(amount * 100))::text as cents,
              bool_and(_hd_row = id - $1) as rows_ok
         from ${tables.silver}`,
      [seed],
    )
    expect(silver.rows[0]).toEqual({ n: g.valid, ids: String(g.idSum), cents: String(g.amountCents), rows_ok: true })
    const bronze = await app.db.query<{ n: number; invalid: number[] }>(
      `select count(*)::int as n, coalesce(array_agg(_hd_row::int order by _hd_row) filter (where not _hd_valid), '{}') as invalid from ${tables.bronze}`,
    )
    expect(bronze.rows[0]).toEqual({ n, invalid: g.bad })
    const quoted = await app.db.query<{ label: string }>(`select label from ${tables.bronze} where _hd_row = 11`)
    expect(quoted.rows[0].label).toBe('quoted, "11"')
  }, 60_000)

  it('fails part-way with a clear 400 and leaves nothing; the next upload works', async () => {
    const before = await app.db.query<{ n: number }>(`select count(*)::int as n from public.datasets where tenant_id = $1`, [t.id])
    const g = generate(80_000, 5)
    const r = await uploadCsv(app, t.admin, `dataset_name=thread-bad&usage=t&template_id=${templateId}`, g.text + '1,2\n')
    expect(r.status).toBe(400)
    expect(r.body.error.details.rule).toBe('ragged_row')
    const after = await app.db.query<{ n: number }>(`select count(*)::int as n from public.datasets where tenant_id = $1`, [t.id])
    expect(after.rows[0].n).toBe(before.rows[0].n)
    const ok = await uploadCsv(app, t.admin, `dataset_name=thread-after&usage=t&template_id=${templateId}`, generate(20_000, 9).text)
    expect(ok.status).toBe(201)
  }, 60_000)
})

const body = multipartBody
const send = (qs: string, stream: ReadableStream<Uint8Array>, boundary: string) => sendMultipart(app, t.admin, qs, stream, boundary)

const state = () => uploadLeftovers(app, t.id)

it('a body that breaks off part-way while the file is stored first: a 400 naming files, nothing kept (both engines)', async () => {
  const saved = process.env.HD_UPLOAD_LIVE
  process.env.HD_UPLOAD_LIVE = 'off'
  try {
    const before = await state()
    const live = uploadCounters.live
    const r = await send(`dataset_name=stored-broken&usage=t&template_id=${templateId}`, body('b0', [generate(20_000, 3).text], { breakAt: 512 * 1024 }), 'b0')
    expect(uploadCounters.live).toBe(live)
    expect(r.status).toBe(400)
    expect(r.body.error.details.fields[0].field).toBe('files')
    expect(await state()).toEqual(before)
  } finally {
    if (saved === undefined) delete process.env.HD_UPLOAD_LIVE
    else process.env.HD_UPLOAD_LIVE = saved
  }
}, 60_000)

describe.runIf(process.env.TEST_DATABASE_URL)('loaded while it arrives (Postgres)', () => {
  const g = generate(60_000, 21)
  /** An upload of `g` whose client stops after 1 MiB until release() (or 20 s). */
  function pausedUpload(name: string, boundary: string) {
    const { opened, release } = gate()
    const response = send(`dataset_name=${name}&usage=t&template_id=${templateId}`, body(boundary, [g.text], { pauseAt: 1024 * 1024, resume: opened }), boundary)
    return { response, release }
  }

  it('a body that breaks off part-way: a 400 naming files, no dataset, table or stored file; the next upload works', async () => {
    const before = await state()
    const live = uploadCounters.live
    const r = await send(`dataset_name=live-broken&usage=t&template_id=${templateId}`, body('b1', [g.text], { breakAt: 1024 * 1024 }), 'b1')
    expect(uploadCounters.live - live).toBe(1)
    expect(r.status).toBe(400)
    expect(r.body.error.details.fields[0].field).toBe('files')
    expect(await state()).toEqual(before)
    const ok = await send(`dataset_name=live-after-break&usage=t&template_id=${templateId}`, body('b2', [g.text]), 'b2')
    expect(ok.status).toBe(201)
    expect(ok.body.files[0].total_records).toBe(60_000)
  }, 60_000)

  it('a form field after the file that changes the upload: a 400 naming files, nothing kept', async () => {
    const before = await state()
    const r = await send(`usage=t&template_id=${templateId}`, body('b3', [g.text], { before: { dataset_name: 'live-first' }, after: { dataset_name: 'live-second' } }), 'b3')
    expect(r.status, JSON.stringify(r.body)).toBe(400)
    expect(r.body.error.details.fields[0]).toMatchObject({ field: 'files', message: expect.stringMatching(/fields before the files/) })
    expect(await state()).toEqual(before)
  }, 60_000)

  it('a name already taken: the 409 comes once the body is read, and nothing is kept', async () => {
    const before = await state()
    const r = await send(`dataset_name=live-after-break&usage=t&template_id=${templateId}`, body('b4', [g.text]), 'b4')
    expect(r.status).toBe(409)
    expect(await state()).toEqual(before)
  }, 60_000)

  it('a slow client holds no thread that others need: another upload and a pool task finish while it pauses', async () => {
    const slow = pausedUpload('live-slow', 'b6')
    await new Promise((r) => setTimeout(r, 200))
    const t0 = performance.now()
    // A task on the shared pool (jobs and large stored uploads use it) and another upload, while the first one waits.
    const task = await getThreadPool().run<{ ok: boolean }>('#app/features/datasets/csv/encode.thread.ts', 'encodeStoredFile', {
      key: 'tenants/none/missing.csv', columns: [], fileId: 1, tenantId: t.id, flushBytes: 1024, flow: new SharedArrayBuffer(4), aheadKiB: 1024,
    }).catch((e: Error) => ({ ok: false, message: e.message }))
    expect(task).toMatchObject({ ok: false })
    const other = await send(`dataset_name=live-fast&usage=t&template_id=${templateId}`, body('b7', [generate(20_000, 7).text]), 'b7')
    expect(other.status).toBe(201)
    expect(performance.now() - t0).toBeLessThan(10_000)
    slow.release()
    const r = await slow.response
    expect(r.status).toBe(201)
    expect(r.body.files[0].total_records).toBe(60_000)
  }, 60_000)

  it('a second upload of a name another is still loading gets a 409 within seconds, not after that client is done', async () => {
    const first = pausedUpload('live-same', 'b8')
    await new Promise((r) => setTimeout(r, 300))
    const t0 = performance.now()
    const second = await send(`dataset_name=live-same&usage=t&template_id=${templateId}`, body('b9', [generate(1_000, 3).text]), 'b9')
    expect(second.status).toBe(409)
    expect(second.body.error).toMatchObject({ message: expect.stringMatching(/right now/), details: { field: 'dataset_name' } })
    expect(performance.now() - t0).toBeLessThan(10_000)
    first.release()
    expect((await first.response).status).toBe(201)
  }, 60_000)

  it('the files after the first are stored whole, then loaded after it, in order', async () => {
    const second = generate(1_000, 500_000)
    const r = await send(`dataset_name=live-two&usage=t&template_id=${templateId}`, body('b5', [g.text, second.text]), 'b5')
    expect(r.status).toBe(201)
    expect(r.body.files.map((f: any) => [f.file_name, f.total_records])).toEqual([
      ['live-0.csv', 60_000],
      ['live-1.csv', 1_000],
    ])
    const tables = await tablesOf(r.body.dataset_id)
    const silver = await app.db.query<{ n: number; ids: string }>(`select count(*)::int as n, sum(id)::text as ids from ${tables.silver}`)
    expect(silver.rows[0]).toEqual({ n: g.valid + second.valid, ids: String(g.idSum + second.idSum) })
  }, 60_000)
})
