import { afterAll, beforeAll, expect, it } from 'vitest'
import type postgres from 'postgres'
import { openCopyStream } from '#app/db/copy.server.ts'
import { createTemplate, setupTestApp, uploadCsv, type TestApp, type TestTenant } from '#tests/support/app.ts'

let app: TestApp
let t: TestTenant
let templateId: number

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  templateId = await createTemplate(app, t.admin, 'F', [{ column_name: 'id', data_type: 'Integer' }, { column_name: 'x', data_type: 'Float' }])
})
afterAll(() => app.close())

// A float that underflows (1e-400) is a number to JavaScript but not to Postgres: it is the row's error, not the upload's.
it('reports a float that underflows as the row error Postgres would raise', async () => {
  let text = 'id,x\n'
  for (let i = 1; i <= 2000; i++) text += `${i},${i === 1990 ? '1e-400' : i / 4}\n`
  const r = await uploadCsv(app, t.admin, `dataset_name=under&usage=t&template_id=${templateId}`, text)
  expect(r.status).toBe(201)
  expect(r.body.files[0].error_report).toMatchObject({ invalid_rows: 1, by_rule: { float_out_of_range: 1 }, errors: [{ row: 1990, column: 'x', value: '1e-400' }] })
})

// A COPY that Postgres rejects part-way must fail and leave the transaction to roll back, not hang with the
// COPY left open (postgres.js never settles the stream then). Validation leaves no value for Postgres to reject,
// so a CHECK constraint does it here. Postgres only: PGlite takes COPY data whole.
it.each([
  ['near the end', 60_000, 59_990],
  ['early in a long file', 300_000, 1000],
])('a COPY stream that Postgres rejects %s fails and rolls back', async (_, n, bad) => {
  if (app.db.engine !== 'postgres') return
  const sql = app.db.raw as postgres.Sql
  await sql.unsafe(`create table if not exists public.copy_reject_probe (id bigint check (id <> -1))`)
  const attempt = sql.begin(async (tx) => {
    const s = await openCopyStream(tx, 'public.copy_reject_probe (id)', '')
    let chunk = ''
    for (let i = 1; i <= n; i++) {
      chunk += `${i === bad ? -1 : i}\n`
      if (chunk.length > 64 * 1024) {
        await s.write(Buffer.from(chunk))
        chunk = ''
      }
    }
    await s.write(Buffer.from(chunk))
    await s.end()
  })
  await expect(attempt).rejects.toThrow()
  const { rows } = await app.db.query(`select count(*)::int as n from public.copy_reject_probe`)
  expect(rows[0].n).toBe(0)
}, 30_000)
