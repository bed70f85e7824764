import { afterAll, beforeAll, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

// A COPY that Postgres rejects part-way (a float that underflows passes the CSV check but not float8 input)
// must fail the upload and roll everything back, not hang with the COPY left open.
let app: TestApp
let t: TestTenant
let templateId: number

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  const r = await json(
    app.fetch('/api/v1/template/', {
      method: 'POST',
      headers: t.admin.auth,
      json: { template_name: 'F', template_schema: [{ column_name: 'id', data_type: 'Integer' }, { column_name: 'x', data_type: 'Float' }] },
    }),
  )
  templateId = r.body.id
})
afterAll(() => app.close())

it.each([
  ['near the end', 60_000, 59_990],
  ['early in a long file', 300_000, 1000],
])('rolls back when Postgres rejects a value %s', async (_, n, bad) => {
  let text = 'id,x\n'
  for (let i = 1; i <= n; i++) text += `${i},${i === bad ? '1e-400' : i / 4}\n`
  const form = new FormData()
  form.append('files', new Blob([text]), 'f.csv')
  const r = await json(app.fetch(`/api/v1/dataset/upload?dataset_name=under-${n}&usage=t&template_id=${templateId}`, { method: 'POST', headers: t.admin.auth, body: form }))
  expect(r.status).toBeGreaterThanOrEqual(400)
  const { rows } = await app.db.query(`select count(*)::int as n from public.datasets where tenant_id = $1`, [t.id])
  expect(rows[0].n).toBe(0)
}, 30_000)
