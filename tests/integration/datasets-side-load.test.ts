import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serverLoadTx, withLoadTx } from '#app/features/datasets/load/load-tx.server.ts'
import { dropStaleStaged, openSideLoad } from '#app/features/datasets/load/side-load.server.ts'
import { createTemplate, setupTestApp, uploadCsv, type TestApp, type TestTenant } from '#tests/support/app.ts'

/**
 * On Postgres a new dataset's bronze table is created and loaded on a second connection, committed just before the
 * upload's own transaction (datasets/load/side-load.server.ts). What must hold: a successful upload leaves no staging row; a failed
 * one leaves no table, row or staging entry, even when it fails after the second transaction committed; a table
 * staged by an upload that died is dropped by maintenance after an hour. PGlite loads on one connection: skipped there.
 */

let app: TestApp
let t: TestTenant
let templateId: number
const onPostgres = () => app.db.engine === 'postgres'

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  templateId = await createTemplate(app, t.admin, 'S', [{ column_name: 'id', data_type: 'Integer' }, { column_name: 'name', data_type: 'String' }])
})
afterAll(() => app.close())

const upload = (name: string, text: string) => uploadCsv(app, t.admin, `dataset_name=${name}&usage=t&template_id=${templateId}`, text)

const bronzeTables = async () =>
  (await app.db.query<{ relname: string }>(`select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'bronze' and c.relname like $1`, [`%${t.id.slice(0, 8)}%`])).rows.map((r) => r.relname)
const staged = async () => (await app.db.query<{ table_name: string }>(`select table_name from public.datalake_staging`)).rows.map((r) => r.table_name)

describe('bronze on a second connection', () => {
  it('commits bronze with the dataset and leaves nothing staged', async () => {
    if (!onPostgres()) return
    let text = 'id,name\n'
    for (let i = 1; i <= 30_000; i++) text += `${i % 1000 ? i : 'x'},n${i}\n`
    const r = await upload('side-ok', text)
    expect(r.status).toBe(201)
    const { rows } = await app.db.query<{ table_name: string; schema_name: string }>(`select schema_name, table_name from public.dataset_tables where dataset_id = $1`, [r.body.dataset_id])
    const bronze = rows.find((x) => x.schema_name === 'bronze')!.table_name
    const counts = await app.db.query<{ n: number; bad: number }>(`select count(*)::int as n, count(*) filter (where not _hd_valid)::int as bad from bronze."${bronze}"`)
    expect(counts.rows[0]).toEqual({ n: 30_000, bad: 30 })
    expect(await staged()).toEqual([])
  })

  it('leaves no bronze table when the file fails part-way', async () => {
    if (!onPostgres()) return
    const before = await bronzeTables()
    let text = 'id,name\n'
    for (let i = 1; i <= 200_000; i++) text += `${i},n${i}\n`
    text += '1,2,3\n'
    const r = await upload('side-fail', text)
    expect(r.status).toBe(400)
    expect(r.body.error.details.rule).toBe('ragged_row')
    expect(await bronzeTables()).toEqual(before)
    expect(await staged()).toEqual([])
    const { rows } = await app.db.query(`select 1 from public.datasets where dataset_name = 'side-fail'`)
    expect(rows).toEqual([])
  }, 30_000)

  it('drops the committed bronze table when the upload fails after the second transaction committed', async () => {
    if (!onPostgres()) return
    const side = (await openSideLoad(app.db))!
    await side.tx.exec(`create table bronze.side_probe_late (x int)`)
    await side.stage('bronze', 'side_probe_late')
    const failing = withLoadTx(app.db, { sub: t.admin.userId, role: 'authenticated', app_metadata: { tenant_id: t.id } }, async (tx) => {
      await tx.asServer()
      await side.commitBefore(tx)
      throw new Error('the upload fails after the side commit')
    })
    await expect(failing).rejects.toThrow('after the side commit')
    await side.discard()
    const { rows } = await app.db.query(`select to_regclass('bronze.side_probe_late') as t`)
    expect(rows[0].t).toBeNull()
    expect(await staged()).toEqual([])
  })

  it('keeps the table when the upload committed, even if it then thinks it failed (a lost commit acknowledgement)', async () => {
    if (!onPostgres()) return
    const side = (await openSideLoad(app.db))!
    await side.tx.exec(`create table bronze.side_probe_kept (x int)`)
    await side.stage('bronze', 'side_probe_kept')
    await withLoadTx(app.db, { sub: t.admin.userId, role: 'authenticated', app_metadata: { tenant_id: t.id } }, async (tx) => {
      await tx.asServer()
      await side.commitBefore(tx)
    })
    await side.discard()
    expect(await dropStaleStaged(app.db, '0 seconds')).toBe(0)
    const { rows } = await app.db.query(`select to_regclass('bronze.side_probe_kept') as t`)
    expect(rows[0].t).toBe('bronze.side_probe_kept')
    await app.db.exec(`drop table bronze.side_probe_kept`)
  })

  it('maintenance drops tables staged over an hour ago by an upload that died, and keeps recent ones', async () => {
    if (!onPostgres()) return
    await app.db.transaction(async (sql) => {
      const tx = serverLoadTx(sql)
      await tx.exec(`create table bronze.side_probe_dead (x int); create table bronze.side_probe_recent (x int)`)
      await tx.query(
        `insert into public.datalake_staging (schema_name, table_name, created_at) values ('bronze', 'side_probe_dead', now() - interval '2 hours'), ('bronze', 'side_probe_recent', now() - interval '5 minutes')`,
      )
    })
    expect(await dropStaleStaged(app.db)).toBe(1)
    const { rows } = await app.db.query(`select to_regclass('bronze.side_probe_dead') as dead, to_regclass('bronze.side_probe_recent') as recent`)
    expect(rows[0]).toEqual({ dead: null, recent: 'bronze.side_probe_recent' })
    expect(await staged()).toEqual(['side_probe_recent'])
    await app.db.exec(`drop table bronze.side_probe_recent; delete from public.datalake_staging`)
  })
})
