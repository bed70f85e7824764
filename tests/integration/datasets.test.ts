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

function multipart(files: { name: string; body: Buffer | string }[], fields: Record<string, string> = {}) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  for (const f of files) form.append('files', new Blob([typeof f.body === 'string' ? f.body : new Uint8Array(f.body)]), f.name)
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

// ---------------------------------------------------------------------------------------------

const storeDir = (tenantId: string) => path.resolve(process.env.DATA_DIR ?? '.data', 'files', 'tenants', tenantId)
function storedFiles(tenantId: string): string[] {
  const dir = storeDir(tenantId)
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name))
}
async function lakeTables(tenantId: string) {
  const { rows } = await app.db.query<{ n: number }>(
    `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('bronze', 'silver') and c.relkind = 'r' and c.relname like $1`,
    [`t_${tenantId.replace(/-/g, '').slice(0, 8)}_%`],
  )
  return rows[0].n
}
async function snapshot(t: TestTenant) {
  const list = await json(app.fetch('/api/v1/dataset/list', { headers: t.admin.auth }))
  const { rows } = await app.db.query<{ f: number; e: number }>(
    `select (select count(*)::int from public.dataset_files where tenant_id = $1) as f,
            (select count(*)::int from public.dataset_file_errors where tenant_id = $1) as e`,
    [t.id],
  )
  return { datasets: list.body.total, files: rows[0].f, errors: rows[0].e, tables: await lakeTables(t.id), stored: storedFiles(t.id).length }
}

describe('the defects dataset end to end', () => {
  let datasetId: number
  let fileId: number
  beforeAll(async () => {
    const r = await upload(a, `dataset_name=defects2&usage=p&template_id=${templateId}&iceberg_table_name=telecom_usage`, [{ name: 'telecom_defects.csv', body: fixture('telecom_defects.csv') }])
    expect(r.status).toBe(201)
    datasetId = r.body.dataset_id
    fileId = r.body.files[0].id
  })

  it('lists it with usability, validity and usage', async () => {
    const r = await json(app.fetch('/api/v1/dataset/list', { headers: a.viewer.auth }))
    const d = r.body.data.find((x: any) => x.id === datasetId)
    expect(d).toMatchObject({
      tenant_id: a.id, dataset_name: 'defects2', file_count: 1, is_valid: false, created_by: a.admin.username, template_id: templateId,
      data_source: 'csv', iceberg_table_name: 'telecom_usage', template_name: 'Telecom Customer Usage', dataset_usability: '50%', usage: 'p', dataset_usage: 'Prediction',
    })
    const v = await json(app.fetch('/api/v1/dataset/list_validated', { headers: a.viewer.auth }))
    expect(v.body.some((x: any) => x.id === datasetId)).toBe(false)
  })

  it('gives its paths and a typed, paged preview of the valid rows', async () => {
    const g = await json(app.fetch(`/api/v1/dataset/get_dataset_by_id?dataset_id=${datasetId}`, { headers: a.viewer.auth }))
    const t8 = a.id.replace(/-/g, '').slice(0, 8)
    expect(g.body).toEqual({ dataset_name: 'defects2', dataset_path: `bronze.t_${t8}_telecom_usage`, validated_path: `silver.t_${t8}_telecom_usage`, iceberg_table_name: 'telecom_usage', data_source: 'csv' })
    const v = await json(app.fetch(`/api/v1/dataset/view?dataset_id=${datasetId}&limit=3`, { headers: a.viewer.auth }))
    expect(v.body.total).toBe(4)
    expect(v.body.preview).toHaveLength(3)
    expect(v.body.preview[0]).toEqual({ CustomerID: 'CUST-0001', DataUsageGB: 10.5, Calls: 12, Active: true, SignupDate: '2024-01-15', LastSeen: '2025-08-09T16:23:00+00:00' })
    expect(Object.keys(v.body.preview[0])).toEqual(['CustomerID', 'DataUsageGB', 'Calls', 'Active', 'SignupDate', 'LastSeen'])
    // row 3: empty CustomerID took the default; row 6: quoted float, empty DateTime is null
    expect(v.body.preview[1]).toMatchObject({ CustomerID: 'CUST-0000', DataUsageGB: 2.5, Active: true })
    const p2 = await json(app.fetch(`/api/v1/dataset/view?dataset_id=${datasetId}&skip=3&limit=3`, { headers: a.viewer.auth }))
    expect(p2.body.preview.map((r: any) => r.CustomerID)).toEqual(['CUST-0008'])
    const bronze = await json(app.fetch(`/api/v1/dataset/view?dataset_id=${datasetId}&layer=bronze&limit=100`, { headers: a.viewer.auth }))
    expect(bronze.body.preview).toHaveLength(8)
    expect(bronze.body.preview[6].CustomerID).toBe('CUST-00\r\n07')
  })

  it('serves the full error report as JSON and as a CSV download', async () => {
    const j = await json(app.fetch(`/api/v1/files/error_report?file_id=${fileId}`, { headers: a.viewer.auth }))
    expect(j.body.total).toBe(6)
    const csv = await app.fetch(`/api/v1/files/error_report?file_id=${fileId}&format=csv`, { headers: a.viewer.auth })
    expect(csv.headers.get('content-type')).toContain('text/csv')
    const lines = (await csv.text()).trim().split('\r\n')
    expect(lines[0]).toBe('row,column,value,rule,message')
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      '2,DataUsageGB,abc,invalid_float',
      '4,Calls,3.5,invalid_integer',
      '4,SignupDate,2024-02-30,invalid_date',
      '5,Active,maybe,invalid_boolean',
      '5,LastSeen,not-a-date,invalid_datetime',
      '7,Calls,99999999999999999999,integer_out_of_range',
    ])
  })

  it('lists, views, describes and downloads its file; paths resolve only among own records', async () => {
    const l = await json(app.fetch(`/api/v1/files/list?dataset_id=${datasetId}`, { headers: a.viewer.auth }))
    expect(l.body.total).toBe(1)
    expect(l.body.data[0]).toMatchObject({ dataset_id: datasetId, id: fileId, file_name: 'telecom_defects.csv', total_fields: 6, total_records: 8 })
    const v = await json(app.fetch(`/api/v1/files/view?file_id=${fileId}&lines=2`, { headers: a.viewer.auth }))
    expect(v.body).toEqual({ file_id: fileId, content_preview: ['CustomerID,DataUsageGB,Calls,Active,SignupDate,LastSeen', 'CUST-0001,10.5,12,true,2024-01-15,2025-08-09T16:23:00Z'] })
    const g = await json(app.fetch(`/api/v1/files/get_file_by_id/?file_id=${fileId}`, { headers: a.viewer.auth }))
    expect(g.body.csv_file_path).toBe(`/datasets/${datasetId}/files/${fileId}/telecom_defects.csv`)
    const dl = await app.fetch(`/api/v1/files/download/?file_path=${encodeURIComponent(g.body.csv_file_path)}`, { headers: a.viewer.auth })
    expect(dl.status).toBe(200)
    expect(Buffer.from(await dl.arrayBuffer()).equals(fixture('telecom_defects.csv'))).toBe(true)
    for (const bad of [
      '/etc/passwd',
      '../../../../etc/passwd',
      `/datasets/${datasetId}/files/${fileId}/../../../../etc/passwd`,
      `/datasets/${datasetId}/files/${fileId}/..%2F..%2Fetc%2Fpasswd`,
      `/datasets/${datasetId + 1}/files/${fileId}/telecom_defects.csv`,
      `tenants/${a.id}/uploads`,
      '.data/pglite',
    ]) {
      const r = await app.fetch(`/api/v1/files/download/?file_path=${encodeURIComponent(bad)}`, { headers: a.viewer.auth })
      expect(r.status, bad).toBe(404)
    }
    // another tenant's admin gets nothing, with the same 404
    expect((await app.fetch(`/api/v1/files/download/?file_path=${encodeURIComponent(g.body.csv_file_path)}`, { headers: b.admin.auth })).status).toBe(404)
  })

  it('is invisible to another tenant on every endpoint', async () => {
    const h = { headers: b.admin.auth }
    for (const p of [
      `/api/v1/dataset/get_dataset_by_id?dataset_id=${datasetId}`,
      `/api/v1/dataset/view?dataset_id=${datasetId}`,
      `/api/v1/dataset/statistics?dataset_id=${datasetId}`,
      `/api/v1/files/list?dataset_id=${datasetId}`,
      `/api/v1/files/view?file_id=${fileId}`,
      `/api/v1/files/get_file_by_id/?file_id=${fileId}`,
      `/api/v1/files/error_report?file_id=${fileId}`,
      `/api/v1/files/download/?file_id=${fileId}`,
    ]) expect((await app.fetch(p, h)).status, p).toBe(404)
    expect((await json(app.fetch('/api/v1/dataset/list', h))).body.data.some((d: any) => d.id === datasetId)).toBe(false)
    expect((await app.fetch(`/api/v1/dataset/generate_statistics?dataset_id=${datasetId}`, { method: 'POST', ...h })).status).toBe(404)
    expect((await app.fetch(`/api/v1/dataset/delete/${datasetId}`, { method: 'DELETE', ...h })).status).toBe(404)
    expect((await app.fetch(`/api/v1/files/delete/${fileId}`, { method: 'DELETE', ...h })).status).toBe(404)
    const add = await app.fetch(`/api/v1/files/add?dataset_id=${datasetId}`, { method: 'POST', headers: b.admin.auth, body: multipart([{ name: 'x.csv', body: fixture('telecom_defects.csv') }]) })
    expect(add.status).toBe(404)
    expect(storedFiles(b.id)).toEqual([])
    // viewers read but do not write
    expect((await app.fetch(`/api/v1/dataset/delete/${datasetId}`, { method: 'DELETE', headers: a.viewer.auth })).status).toBe(403)
  })

  it('refuses to delete the template while the dataset uses it', async () => {
    const r = await json(app.fetch(`/api/v1/template/${templateId}`, { method: 'DELETE', headers: a.admin.auth }))
    expect(r.status).toBe(409)
    expect(r.body.error.message).toContain("'defects2'")
  })
})

describe('files/add and files/delete', () => {
  it('appends a ;-delimited file, updates totals, and removes its rows on delete', async () => {
    const up = await upload(a, `dataset_name=grow&usage=t&template_id=${templateId}`, [{ name: 'a.csv', body: fixture('telecom_clean_semicolon.csv') }])
    expect(up.status).toBe(201)
    expect(up.body.files[0].error_report).toBeNull()
    const id = up.body.dataset_id
    let d = (await json(app.fetch('/api/v1/dataset/list', { headers: a.admin.auth }))).body.data.find((x: any) => x.id === id)
    expect(d).toMatchObject({ is_valid: true, dataset_usability: '100%', dataset_usage: 'Training' })
    const add = await json(app.fetch(`/api/v1/files/add?dataset_id=${id}`, { method: 'POST', headers: a.admin.auth, body: multipart([{ name: 'more.csv', body: fixture('telecom_defects.csv') }]) }))
    expect(add.status).toBe(201)
    expect(add.body).toMatchObject({ dataset_id: id, dataset_name: 'grow', data_source: 'csv', files: [{ file_name: 'more.csv', total_records: 8 }] })
    d = (await json(app.fetch('/api/v1/dataset/list', { headers: a.admin.auth }))).body.data.find((x: any) => x.id === id)
    expect(d).toMatchObject({ file_count: 2, dataset_usability: '60%', is_valid: false })
    expect((await json(app.fetch(`/api/v1/dataset/view?dataset_id=${id}`, { headers: a.admin.auth }))).body.preview).toHaveLength(6)
    const del = await app.fetch(`/api/v1/files/delete/${add.body.files[0].id}`, { method: 'DELETE', headers: a.admin.auth })
    expect(del.status).toBe(200)
    d = (await json(app.fetch('/api/v1/dataset/list', { headers: a.admin.auth }))).body.data.find((x: any) => x.id === id)
    expect(d).toMatchObject({ file_count: 1, dataset_usability: '100%', is_valid: true })
    expect((await json(app.fetch(`/api/v1/dataset/view?dataset_id=${id}&layer=bronze`, { headers: a.admin.auth }))).body.preview).toHaveLength(2)
    expect((await json(app.fetch('/api/v1/dataset/list_validated', { headers: a.admin.auth }))).body.some((x: any) => x.id === id)).toBe(true)
  })
})

describe('header checks', () => {
  it('reports missing, renamed and extra columns and uses defaults for missing ones', async () => {
    const text = 'CustomerID,Usage,Active,SignupDate,LastSeen,Comment\nC1,1.0,true,2024-01-01,,hi\n'
    const r = await upload(a, `dataset_name=hdr&usage=p&template_id=${templateId}`, [{ name: 'h.csv', body: text }])
    expect(r.status).toBe(201)
    expect(r.body.files[0].error_report.header.map((h: any) => [h.rule, h.column, h.value])).toEqual([
      ['renamed_column', 'DataUsageGB', 'Usage'],
      ['missing_column', 'Calls', null],
      ['extra_column', 'Comment', 'Comment'],
    ])
    expect(r.body.files[0].error_report.invalid_rows).toBe(1)
  })
})

describe('bad files leave nothing behind', () => {
  const cases: [string, string | Buffer, string][] = [
    ['empty', '', 'empty'],
    ['header only', 'CustomerID,DataUsageGB,Calls,Active,SignupDate,LastSeen\r\n', 'no_rows'],
    ['not CSV (JSON)', '{"CustomerID": "C1", "Calls": 3}', 'not_csv'],
    ['binary', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]), 'binary'],
    ['wrong delimiter', 'CustomerID:DataUsageGB:Calls\nC1:1.0:3\n', 'unknown_delimiter'],
    ['ragged rows', 'CustomerID,DataUsageGB,Calls,Active,SignupDate,LastSeen\nC1,1,1,true,2024-01-01,2025-01-01T00:00:00Z\nC2,2,2\n', 'ragged_row'],
    ['1 MB single field', `CustomerID,DataUsageGB\n"${'x'.repeat(1024 * 1024)}",1\n`, 'field_too_long'],
    ['duplicate headers', 'CustomerID,Calls,calls\nC1,1,2\n', 'duplicate_header'],
  ]
  for (const [label, body, rule] of cases) {
    it(`${label} → 400 ${rule}`, async () => {
      const before = await snapshot(a)
      const r = await upload(a, `dataset_name=bad-${rule}&usage=p&template_id=${templateId}`, [{ name: `${rule}.csv`, body }])
      expect(r.status, JSON.stringify(r.body)).toBe(400)
      expect(r.body.error).toMatchObject({ code: 'INVALID_DATASET', details: { rule, file: `${rule}.csv` } })
      expect(r.body.error.message).toContain(`${rule}.csv:`)
      expect(await snapshot(a)).toEqual(before)
    })
  }
  it('a bad second file rolls back the first one', async () => {
    const before = await snapshot(a)
    const r = await upload(a, `dataset_name=half&usage=p&template_id=${templateId}`, [
      { name: 'good.csv', body: fixture('telecom_defects.csv') },
      { name: 'bad.csv', body: 'CustomerID,DataUsageGB\nC1,1\nC2\n' },
    ])
    expect(r.status).toBe(400)
    expect(await snapshot(a)).toEqual(before)
  })
  it('bad parameters → 400 naming the field, nothing stored', async () => {
    const before = await snapshot(a)
    const f = [{ name: 'x.csv', body: fixture('telecom_defects.csv') }]
    for (const [qs, field] of [
      [`usage=p&template_id=${templateId}`, 'dataset_name'],
      [`dataset_name=x&usage=zz&template_id=${templateId}`, 'usage'],
      [`dataset_name=x&usage=p&template_id=${templateId}&iceberg_table_name=Robert');drop`, 'iceberg_table_name'],
    ]) {
      const r = await upload(a, qs, f)
      expect(r.status, qs).toBe(400)
      expect(r.body.error.details.fields[0].field).toBe(field)
    }
    expect((await upload(a, 'dataset_name=x&usage=p&template_id=999999', f)).status).toBe(404)
    expect((await upload(b, `dataset_name=x&usage=p&template_id=${templateId}`, f)).status).toBe(404)
    expect((await upload(a, `dataset_name=defects&usage=p&template_id=${templateId}`, f)).status).toBe(409)
    expect(await snapshot(a)).toEqual(before)
    expect(storedFiles(b.id)).toEqual([])
  })
})

describe('upload without a template', () => {
  it('infers the column types and shows them', async () => {
    const text = 'id,score,flag,day,at,name\n1,1.5,true,2024-01-01,2024-01-01T10:00:00Z,a\n2,2,false,2024-01-02,2024-01-02 11:00,b\n3,,no,,,\n'
    const r = await upload(a, 'dataset_name=inferred&usage=o', [{ name: 'i.csv', body: text }])
    expect(r.status).toBe(201)
    expect(r.body.inferred_schema.map((c: any) => c.data_type)).toEqual(['Integer', 'Float', 'Boolean', 'Date', 'DateTime', 'String'])
    expect(r.body.files[0].error_report).toBeNull()
  })
})

describe('delete dataset', () => {
  it('drops its tables and stored files; then the template can go', async () => {
    const tpl = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: a.admin.auth, json: { template_name: 'Short', template_schema: [{ column_name: 'x', data_type: 'Integer' }] } }))
    const up = await upload(a, `dataset_name=doomed&usage=p&template_id=${tpl.body.id}`, [{ name: 'd.csv', body: 'x\n1\n2\n' }])
    expect(up.status).toBe(201)
    const before = await snapshot(a)
    expect((await app.fetch(`/api/v1/template/${tpl.body.id}`, { method: 'DELETE', headers: a.admin.auth })).status).toBe(409)
    const del = await app.fetch(`/api/v1/dataset/delete/${up.body.dataset_id}`, { method: 'DELETE', headers: a.admin.auth })
    expect(del.status).toBe(200)
    const after = await snapshot(a)
    expect(after).toEqual({ datasets: before.datasets - 1, files: before.files - 1, errors: before.errors, tables: before.tables - 2, stored: before.stored - 1 })
    expect((await app.fetch(`/api/v1/template/${tpl.body.id}`, { method: 'DELETE', headers: a.admin.auth })).status).toBe(200)
  })
})

describe('error report download', () => {
  it('streams every error in file order across pages, with formula-looking values defused', async () => {
    const tpl = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: a.admin.auth, json: { template_name: 'Numbers', template_schema: [{ column_name: 'n', data_type: 'Integer' }, { column_name: 'x', data_type: 'Float' }] } }))
    const lines = ['n,x']
    for (let i = 1; i <= 6001; i++) lines.push(i === 3 ? '=HYPERLINK("http://evil"),-1.5' : i % 2 ? `bad${i},1` : `${i},oops`)
    const up = await upload(a, `dataset_name=many-errors&usage=o&template_id=${tpl.body.id}`, [{ name: 'many.csv', body: lines.join('\n') }])
    expect(up.status).toBe(201)
    expect(up.body.files[0].error_report).toMatchObject({ invalid_rows: 6001, error_count: 6001, truncated: true })
    const res = await app.fetch(`/api/v1/files/error_report?file_id=${up.body.files[0].id}&format=csv`, { headers: a.viewer.auth })
    const out = (await res.text()).trim().split('\r\n')
    expect(out).toHaveLength(6002)
    expect(out[1].startsWith('1,n,bad1,invalid_integer,')).toBe(true)
    expect(out[2].startsWith('2,x,oops,invalid_float,')).toBe(true)
    expect(out[3].startsWith(`3,n,"'=HYPERLINK(""http://evil"")",invalid_integer,`)).toBe(true)
    expect(out[6001].startsWith('6001,n,bad6001,')).toBe(true)
  })
})

describe('column names are data', () => {
  it('loads, previews and describes columns named like SQL, with quotes, spaces and accents', async () => {
    const names = ['a"; drop table public.tenants; --', 'Data Usage (GB)', 'Zoë', 'select']
    const tpl = await json(app.fetch('/api/v1/template/', {
      method: 'POST', headers: a.admin.auth,
      json: { template_name: 'Weird names', template_schema: names.map((n, i) => ({ column_name: n, data_type: i === 1 ? 'Float' : 'String' })) },
    }))
    expect(tpl.status).toBe(201)
    const header = names.map((n) => `"${n.replace(/"/g, '""')}"`).join(',')
    const up = await upload(a, `dataset_name=weird&usage=o&template_id=${tpl.body.id}&iceberg_table_name=weird_names`, [{ name: 'w.csv', body: `${header}\nx,1.5,é,y\n` }])
    expect(up.status, JSON.stringify(up.body)).toBe(201)
    const v = await json(app.fetch(`/api/v1/dataset/view?dataset_id=${up.body.dataset_id}`, { headers: a.viewer.auth }))
    expect(v.body.preview).toEqual([{ [names[0]]: 'x', [names[1]]: 1.5, [names[2]]: 'é', [names[3]]: 'y' }])
    const cols = await json(app.fetch('/api/v1/datalake/tables/columns?schema_name=silver&table_name=weird_names', { headers: a.viewer.auth }))
    expect(cols.body.map((c: any) => c.column_name)).toEqual(names)
    const n = await json(app.fetch(`/api/v1/datalake/numeric_stats?schema_name=silver&table_name=weird_names&column_name=${encodeURIComponent(names[1])}`, { headers: a.viewer.auth }))
    expect(n.body).toMatchObject({ count: 1, mean: 1.5 })
    const d = await json(app.fetch(`/api/v1/datalake/distinct-count?schema=silver&table=weird_names&column=${encodeURIComponent(names[0])}`, { headers: a.viewer.auth }))
    expect(d.body.distinct_count).toBe(1)
    expect((await app.db.query(`select count(*)::int as n from public.tenants`)).rows[0].n).toBeGreaterThanOrEqual(2)
  })
  it('operators and viewers cannot upload', async () => {
    for (const who of ['viewer'] as const) {
      const r = await upload(a, `dataset_name=nope&usage=p&template_id=${templateId}`, [{ name: 'x.csv', body: fixture('telecom_defects.csv') }], who)
      expect(r.status).toBe(403)
    }
    const op = await json(app.fetch(`/api/v1/dataset/upload?dataset_name=nope&usage=p`, { method: 'POST', headers: a.operator.auth, body: multipart([{ name: 'x.csv', body: 'a\n1\n' }]) }))
    expect(op.status).toBe(403)
    expect(storedFiles(a.id).some((f) => f.includes('nope'))).toBe(false)
  })
})

describe('names are per tenant', () => {
  it('lets two tenants use the same dataset, table and template names without seeing each other', async () => {
    const tb = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: b.admin.auth, json: TEMPLATE }))
    expect(tb.status).toBe(201)
    const qs = (t: number) => `dataset_name=shared-name&usage=p&template_id=${t}&iceberg_table_name=shared_table`
    const ra = await upload(a, qs(templateId), [{ name: 'a.csv', body: fixture('telecom_clean_semicolon.csv') }])
    const rb = await upload(b, qs(tb.body.id), [{ name: 'b.csv', body: fixture('telecom_defects.csv') }])
    expect([ra.status, rb.status]).toEqual([201, 201])
    const va = await json(app.fetch(`/api/v1/dataset/view?dataset_id=${ra.body.dataset_id}`, { headers: a.viewer.auth }))
    const vb = await json(app.fetch(`/api/v1/dataset/view?dataset_id=${rb.body.dataset_id}`, { headers: b.viewer.auth }))
    expect([va.body.total, vb.body.total]).toEqual([2, 4])
    const ma = await json(app.fetch('/api/v1/datalake/table_metadata?schema_name=silver&table_name=shared_table', { headers: a.viewer.auth }))
    const mb = await json(app.fetch('/api/v1/datalake/table_metadata?schema_name=silver&table_name=shared_table', { headers: b.viewer.auth }))
    expect([ma.body.row_count, mb.body.row_count]).toEqual([2, 4])
    expect(ma.body.physical_table).not.toBe(mb.body.physical_table)
    const dup = await upload(a, qs(templateId), [{ name: 'a.csv', body: fixture('telecom_clean_semicolon.csv') }])
    expect(dup.status).toBe(409)
  })
})

describe('column names Postgres reserves', () => {
  // Bug: a column named like a system column (ctid, xmin, tableoid...) made CREATE TABLE fail → 500.
  it('a template with a system column name is a 400 naming the column', async () => {
    const r = await json(app.fetch('/api/v1/template/', {
      method: 'POST', headers: a.admin.auth,
      json: { template_name: 'System names', template_schema: [{ column_name: 'ok', data_type: 'String' }, { column_name: 'ctid', data_type: 'String' }] },
    }))
    expect(r.status).toBe(400)
    expect(JSON.stringify(r.body)).toContain('template_schema[1].column_name')
  })
  it('an upload without a template whose header has a system column name is a 400, nothing left behind', async () => {
    const before = storedFiles(a.id).length
    for (const header of ['ctid,a', 'a,XMin', 'tableoid']) {
      const r = await upload(a, 'dataset_name=sysnames&usage=p', [{ name: 's.csv', body: `${header}\n${header.split(',').map(() => '1').join(',')}\n` }])
      expect(r.status, header).toBe(400)
      expect(r.body.error.details.rule).toBe('bad_header')
    }
    expect(storedFiles(a.id).length).toBe(before)
    expect((await app.db.query(`select count(*)::int as n from public.datasets where tenant_id = $1 and dataset_name = 'sysnames'`, [a.id])).rows[0].n).toBe(0)
  })
  // Bug: a header with more columns than a Postgres table can hold (1600) → 500.
  it('an upload without a template with thousands of columns is a 400', async () => {
    const n = 5000
    const body = Array.from({ length: n }, (_, i) => `c${i}`).join(',') + '\n' + Array.from({ length: n }, () => '1').join(',') + '\n'
    const r = await upload(a, 'dataset_name=wide&usage=p', [{ name: 'wide.csv', body }])
    expect(r.status).toBe(400)
    expect(r.body.error.details.rule).toBe('too_many_columns')
  })
})

describe('rows wider than a table page', () => {
  // Bug: 1,000 columns of 500-character text made the COPY fail with "row is too big" → 500, not a 400.
  it('is a 400 naming the file, nothing left behind', async () => {
    const before = storedFiles(a.id).length
    const tablesBefore = await lakeTables(a.id)
    const n = 1000
    const body = Array.from({ length: n }, (_, i) => `c${i}`).join(',') + '\n' + Array.from({ length: n }, (_, i) => `${i}`.padEnd(500, 'x')).join(',') + '\n'
    const r = await upload(a, 'dataset_name=too_wide&usage=p', [{ name: 'wide.csv', body }])
    expect(r.status, JSON.stringify(r.body)).toBe(400)
    // PGlite reports Postgres's own error (row_too_wide); postgres.js loses it, so the COPY is only known as rejected.
    expect(['row_too_wide', 'rows_rejected']).toContain(r.body.error.details.rule)
    expect(storedFiles(a.id).length).toBe(before)
    expect((await app.db.query(`select count(*)::int as n from public.datasets where tenant_id = $1 and dataset_name = 'too_wide'`, [a.id])).rows[0].n).toBe(0)
    expect(await lakeTables(a.id)).toBe(tablesBefore)
  })
})

describe('download by csv_file_path with % in the name', () => {
  // Bug: resolveDownload ran decodeURIComponent on the name: a file named "100%.csv" (its own documented
  // csv_file_path) or a malformed escape threw URIError → 500.
  it('serves the documented path and answers 404 for a malformed escape', async () => {
    const up = await upload(a, 'dataset_name=percent&usage=p', [{ name: '100%.csv', body: 'a\n1\n' }])
    expect(up.status, JSON.stringify(up.body)).toBe(201)
    const f = await json(app.fetch(`/api/v1/files/get_file_by_id?file_id=${up.body.files[0].id}`, { headers: a.viewer.auth }))
    expect(f.body.csv_file_path).toMatch(/100%\.csv$/)
    const dl = await app.fetch(`/api/v1/files/download?file_path=${encodeURIComponent(f.body.csv_file_path)}`, { headers: a.viewer.auth })
    expect(dl.status).toBe(200)
    expect((await dl.text()).trim()).toBe('a\n1')
    const bad = await json(app.fetch(`/api/v1/files/download?file_path=${encodeURIComponent(f.body.csv_file_path.replace(/100%\.csv$/, '%E0%A4%A'))}`, { headers: a.viewer.auth }))
    expect(bad.status).toBe(404)
  })
})

describe('download of a file with a non-Latin name', () => {
  // Bug: busboy read multipart file names as latin1, so a UTF-8 name was stored as mojibake; and the raw name
  // in Content-Disposition's filename="..." must be ASCII (a header value cannot hold characters above U+00FF).
  it('keeps the UTF-8 name and downloads it with the name in filename*', async () => {
    const up = await upload(a, 'dataset_name=cyr&usage=p', [{ name: 'данные📈.csv', body: 'a\n1\n' }])
    expect(up.status, JSON.stringify(up.body)).toBe(201)
    expect(up.body.files[0].file_name).toBe('данные📈.csv')
    const dl = await app.fetch(`/api/v1/files/download?file_id=${up.body.files[0].id}`, { headers: a.viewer.auth })
    expect(dl.status).toBe(200)
    expect(dl.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('данные📈.csv')}`)
    expect((await dl.text()).trim()).toBe('a\n1')
  })
})

describe('NUL bytes in names', () => {
  // Bug: a NUL in template_name or dataset_name reached Postgres (text cannot hold it) → 500 instead of a 400.
  it('template_name and dataset_name with a NUL are 400s naming the field', async () => {
    const t = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: a.admin.auth, json: { template_name: 'x\u0000y', template_schema: [] } }))
    expect(t.status).toBe(400)
    expect(t.body.error.message).toContain('template_name')
    const d = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: a.admin.auth, json: { template_name: 'nul default', template_schema: [{ column_name: 'a', data_type: 'String', default_value: 'p\u0000q' }] } }))
    expect(d.status).toBe(400)
    expect(JSON.stringify(d.body)).toContain('template_schema[0].default_value')
    const before = storedFiles(a.id).length
    const u = await upload(a, 'dataset_name=a%00b&usage=p', [{ name: 'n.csv', body: 'a\n1\n' }])
    expect(u.status).toBe(400)
    expect(u.body.error.message).toContain('dataset_name')
    expect(storedFiles(a.id).length).toBe(before)
  })
})
