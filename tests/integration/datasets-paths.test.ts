import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadPathCounts } from '#app/features/datasets/load/encode-paths.server.ts'
import { createTemplate, setupTestApp, uploadCsv, type TestApp, type TestTenant } from '#tests/support/app.ts'

/**
 * The upload's path matrix (app/features/datasets/README.md): where a file is parsed (inline on the request's thread,
 * on a pool thread, or live while it arrives) × where bronze loads (a second connection alongside silver, or after
 * silver on one). Each cell is forced through the settings that choose it, checked to be the path taken, and its
 * tables compared with the rows as generated. PGlite has one connection: live and side load are Postgres only.
 */

let app: TestApp
let t: TestTenant
let templateId: number
const ENV = ['HD_UPLOAD_THREAD_MIN_BYTES', 'HD_UPLOAD_LIVE', 'HD_UPLOAD_SIDE_LOAD'] as const
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]))

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  templateId = await createTemplate(app, t.admin, 'P', [
    { column_name: 'id', data_type: 'Integer' },
    { column_name: 'amount', data_type: 'Float' },
    { column_name: 'label', data_type: 'String' },
  ])
})
afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k]
    else process.env[k] = saved[k]
  }
  await app.close()
})

/** 30k rows; every 400th has a bad amount. */
function generate(seed: number) {
  let text = 'id,amount,label\n'
  let valid = 0
  let idSum = 0
  const bad: number[] = []
  for (let i = 1; i <= 30_000; i++) {
    const broken = i % 400 === 0
    text += `${i + seed},${broken ? 'n/a' : (i % 1000) / 4},${i % 13 ? `row ${i}` : `"quoted, ${i}"`}\n`
    if (broken) bad.push(i)
    else {
      valid++
      idSum += i + seed
    }
  }
  return { text, valid, idSum, bad }
}

const onPostgres = !!process.env.TEST_DATABASE_URL
const cells = [
  { path: 'inline', side: false, env: { HD_UPLOAD_THREAD_MIN_BYTES: String(2 ** 40), HD_UPLOAD_LIVE: 'off', HD_UPLOAD_SIDE_LOAD: 'off' } },
  { path: 'thread', side: false, env: { HD_UPLOAD_THREAD_MIN_BYTES: '0', HD_UPLOAD_LIVE: 'off', HD_UPLOAD_SIDE_LOAD: 'off' } },
  { path: 'live', side: false, env: { HD_UPLOAD_THREAD_MIN_BYTES: '0', HD_UPLOAD_LIVE: 'on', HD_UPLOAD_SIDE_LOAD: 'off' } },
  { path: 'inline', side: true, env: { HD_UPLOAD_THREAD_MIN_BYTES: String(2 ** 40), HD_UPLOAD_LIVE: 'off', HD_UPLOAD_SIDE_LOAD: 'on' } },
  { path: 'thread', side: true, env: { HD_UPLOAD_THREAD_MIN_BYTES: '0', HD_UPLOAD_LIVE: 'off', HD_UPLOAD_SIDE_LOAD: 'on' } },
  { path: 'live', side: true, env: { HD_UPLOAD_THREAD_MIN_BYTES: '0', HD_UPLOAD_LIVE: 'on', HD_UPLOAD_SIDE_LOAD: 'on' } },
] as const

describe('every path of the upload loads exactly the generated rows', () => {
  it.each(cells.map((c, i) => ({ ...c, i, name: `${c.path}${c.side ? ' + side load' : ''}` })))('$name', async ({ path, side, env, i }) => {
    const postgresOnly = path === 'live' || side
    if (postgresOnly && !onPostgres) {
      console.info(`[datasets-paths] ${path}${side ? ' + side load' : ''}: skipped on PGlite (one connection: no live load, no second connection)`)
      return
    }
    Object.assign(process.env, env)
    const key = side ? (`${path}+side` as const) : path
    const before = { ...loadPathCounts }
    const g = generate(i * 100_000)
    const r = await uploadCsv(app, t.admin, `dataset_name=path-${i}&usage=t&template_id=${templateId}`, g.text)
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    const taken = Object.entries(loadPathCounts).filter(([k, n]) => n !== before[k as keyof typeof before])
    expect(taken).toEqual([[key, before[key] + 1]])

    const { rows: tables } = await app.db.query<{ schema_name: string; table_name: string }>(
      `select schema_name, table_name from public.dataset_tables where dataset_id = $1`,
      [r.body.dataset_id],
    )
    const table = (s: string) => `${s}."${tables.find((x) => x.schema_name === s)!.table_name}"`
    const silver = await app.db.query(`select count(*)::int as n, sum(id)::text as ids from ${table('silver')}`)
    expect(silver.rows[0]).toEqual({ n: g.valid, ids: String(g.idSum) })
    const bronze = await app.db.query(
      `select count(*)::int as n, array_agg(_hd_row::int order by _hd_row) filter (where not _hd_valid) as invalid,
              max(label) filter (where _hd_row = 13) as quoted from ${table('bronze')}`,
    )
    expect(bronze.rows[0]).toEqual({ n: 30_000, invalid: g.bad, quoted: 'quoted, 13' })
    expect(r.body.files[0].error_report.invalid_rows).toBe(g.bad.length)
    const { rows: staged } = await app.db.query(`select count(*)::int as n from public.datalake_staging`)
    expect(staged[0].n).toBe(0)
  }, 60_000)
})
