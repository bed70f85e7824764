import { createStaticHandler } from 'react-router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loader as datasetPage } from '#app/routes/_app.datasets_.$dataset_id.tsx'
import { loader as assetPage } from '#app/routes/_app.marketplace_.$asset_id.tsx'
import { loader as predictPage } from '#app/routes/_app.models_.$id_.predict.tsx'
import { loader as modelPage } from '#app/routes/_app.models_.$train_id.tsx'
import { createTemplate, setupTestApp, uploadCsv, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'

/**
 * The browser's detail pages, as React Router serves them: an id that does not exist, is another tenant's, or is not a
 * number is the 404 page (the feature's NOT_FOUND), never a 500 crash page.
 */

let app: TestApp
let a: TestTenant
let b: TestTenant
let ownDataset: number
let theirDataset: number

const pages = createStaticHandler([
  { id: 'dataset', path: '/datasets/:dataset_id', loader: datasetPage as never },
  { id: 'model', path: '/models/:train_id', loader: modelPage as never },
  { id: 'predict', path: '/models/:id/predict', loader: predictPage as never },
  { id: 'asset', path: '/marketplace/:asset_id', loader: assetPage as never },
])

/** GET a page as `user`'s browser session; the status React Router would answer with, and the error it would show. */
async function page(user: TestUser, pathname: string) {
  const request = new Request(new URL(pathname, 'http://hotdash.test'), { headers: { cookie: `hd_at=${user.tokens.access_token}` } })
  const ctx = await pages.query(request)
  if (ctx instanceof Response) return { status: ctx.status, error: undefined }
  const error = Object.values(ctx.errors ?? {})[0] as { status?: number; data?: { code?: string; message?: string } } | undefined
  return { status: ctx.statusCode, error }
}

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  const upload = async (t: TestTenant) => {
    const template = await createTemplate(app, t.admin, 'P', [
      { column_name: 'id', data_type: 'Integer' },
      { column_name: 'x', data_type: 'Float' },
    ])
    const r = await uploadCsv(app, t.admin, `dataset_name=p&usage=Training&template_id=${template}`, 'id,x\n1,0.5\n2,1.5\n')
    if (r.status !== 201) throw new Error(`upload: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body.dataset_id as number
  }
  ;[ownDataset, theirDataset] = await Promise.all([upload(a), upload(b)])
})
afterAll(() => app?.close())

describe('detail pages with an id that is not the caller’s', () => {
  it('a dataset of the caller’s tenant renders', async () => {
    const r = await page(a.admin, `/datasets/${ownDataset}`)
    expect(r.status, JSON.stringify(r.error?.data)).toBe(200)
  })

  it('another tenant’s dataset, an unknown one and a non-number are the 404 page', async () => {
    for (const id of [theirDataset, 99_999_999, 'abc', '1.5']) {
      const r = await page(a.admin, `/datasets/${id}`)
      expect(r.status, `/datasets/${id}`).toBe(404)
      expect(r.error?.data).toMatchObject({ code: 'NOT_FOUND', message: 'Dataset not found' })
    }
  })

  it('an unknown training is the 404 page on the model page and the prediction page', async () => {
    for (const path of ['/models/99999999', '/models/abc', '/models/99999999/predict', '/models/abc/predict']) {
      const r = await page(a.admin, path)
      expect(r.status, path).toBe(404)
      expect(r.error?.data?.code, path).toBe('NOT_FOUND')
    }
  })

  it('a malformed or unknown marketplace asset id is the 404 page', async () => {
    for (const id of ['xyz', '00000000-0000-4000-8000-000000000000']) {
      const r = await page(a.admin, `/marketplace/${id}`)
      expect(r.status, id).toBe(404)
      expect(r.error?.data?.code, id).toBe('NOT_FOUND')
    }
  })
})
