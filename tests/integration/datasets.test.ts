import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/csv')
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name))

let app: TestApp
let a: TestTenant
let b: TestTenant

const TEMPLATE = {
  template_name: 'Telecom Customer Usage',
  template_schema: [
    { column_name: 'CustomerID', data_type: 'String', default_value: 'CUST-0000' },
    { column_name: 'DataUsageGB', data_type: 'Float', default_value: '0.0' },
    { column_name: 'Calls', data_type: 'integer' },
    { column_name: 'Active', data_type: 'Boolean' },
    { column_name: 'SignupDate', data_type: 'Date' },
    { column_name: 'LastSeen', data_type: 'DateTime' },
  ],
}

export function multipart(files: { name: string; body: Buffer | string }[], fields: Record<string, string> = {}) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  for (const f of files) form.append('files', new Blob([f.body]), f.name)
  return form
}

async function upload(t: TestTenant, qs: string, files: { name: string; body: Buffer | string }[], who: 'admin' | 'viewer' | 'data_scientist' = 'admin') {
  return json(app.fetch(`/api/v1/dataset/upload?${qs}`, { method: 'POST', headers: t[who].auth, body: multipart(files) }))
}

let templateId: number

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  const r = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: a.admin.auth, json: TEMPLATE }))
  expect(r.status).toBe(201)
  templateId = r.body.id
})
afterAll(() => app.close())

describe('templates', () => {
  it('creates, lists, reads and updates in the spec shapes', async () => {
    const list = await json(app.fetch('/api/v1/template/list', { headers: a.viewer.auth }))
    expect(list.status).toBe(200)
    expect(list.body.total).toBe(1)
    expect(list.body.data[0]).toMatchObject({ template_name: 'Telecom Customer Usage', id: templateId, tenant_id: a.id, no_of_columns: 6, created_by: a.admin.username, modified_by: a.admin.username })
    const one = await json(app.fetch(`/api/v1/template/${templateId}`, { headers: a.viewer.auth }))
    expect(one.body.template_schema[2]).toEqual({ column_name: 'Calls', data_type: 'Integer', default_value: null })
    const created = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: a.admin.auth, json: { template_name: 'Tmp', template_schema: [{ column_name: 'a', data_type: 'String' }] } }))
    const upd = await json(app.fetch(`/api/v1/template/update/${created.body.id}`, { method: 'PUT', headers: a.admin.auth, json: { template_name: 'Tmp V2', template_schema: [{ column_name: 'a', data_type: 'String' }, { column_name: 'b', data_type: 'Float' }] } }))
    expect(upd.status).toBe(200)
    expect(upd.body).toEqual({ template_name: 'Tmp V2', template_schema: [{ column_name: 'a', data_type: 'String', default_value: null }, { column_name: 'b', data_type: 'Float', default_value: null }] })
    const del = await json(app.fetch(`/api/v1/template/${created.body.id}`, { method: 'DELETE', headers: a.admin.auth }))
    expect(del.status).toBe(200)
  })
  it('rejects bad schemas naming the column', async () => {
    const r = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: a.admin.auth, json: { template_name: 'Bad', template_schema: [{ column_name: 'Qty', data_type: 'Integer', default_value: 'ten' }] } }))
    expect(r.status).toBe(400)
    expect(r.body.error.details.fields[0]).toMatchObject({ field: 'template_schema[0].default_value' })
    expect(r.body.error.message).toContain("'Qty'")
  })
  it('is invisible to other tenants and read-only for viewers', async () => {
    expect((await app.fetch(`/api/v1/template/${templateId}`, { headers: b.admin.auth })).status).toBe(404)
    expect((await json(app.fetch('/api/v1/template/list', { headers: b.admin.auth }))).body.total).toBe(0)
    expect((await app.fetch('/api/v1/template/', { method: 'POST', headers: a.viewer.auth, json: { template_name: 'x' } })).status).toBe(403)
    expect((await app.fetch(`/api/v1/template/${templateId}`, { method: 'DELETE', headers: b.admin.auth })).status).toBe(404)
  })
})

describe('upload', () => {
  it('reports every broken cell of the defects fixture exactly', async () => {
    const r = await upload(a, `dataset_name=defects&usage=p&template_id=${templateId}`, [{ name: 'telecom_defects.csv', body: fixture('telecom_defects.csv') }])
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body).toMatchObject({ dataset_name: 'defects', data_source: 'csv', dataset_id: expect.any(Number) })
    const f = r.body.files[0]
    expect(f).toMatchObject({ file_name: 'telecom_defects.csv', total_fields: 6, total_records: 8, dataset_id: r.body.dataset_id })
    expect(f.error_report).toMatchObject({ invalid_rows: 4, error_count: 6, header: [] })
    expect(f.error_report.errors.map((e: any) => [e.row, e.column, e.value, e.rule])).toEqual([
      [2, 'DataUsageGB', 'abc', 'invalid_float'],
      [4, 'Calls', '3.5', 'invalid_integer'],
      [4, 'SignupDate', '2024-02-30', 'invalid_date'],
      [5, 'Active', 'maybe', 'invalid_boolean'],
      [5, 'LastSeen', 'not-a-date', 'invalid_datetime'],
      [7, 'Calls', '99999999999999999999', 'integer_out_of_range'],
    ])
  })
})
