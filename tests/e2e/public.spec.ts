import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from './fixtures.ts'

const PUBLIC = path.resolve(import.meta.dirname, '../../public')

test('the production build serves public/: favicon, touch icon and robots.txt, linked from every page', async ({ page, request }) => {
  for (const [file, type] of [
    ['favicon.ico', /^image\/(x-icon|vnd\.microsoft\.icon)/],
    ['favicon.svg', /^image\/svg\+xml/],
    ['apple-touch-icon.png', /^image\/png/],
    ['robots.txt', /^text\/plain/],
  ] as const) {
    const r = await request.get(`/${file}`)
    expect(r.status(), file).toBe(200)
    expect(r.headers()['content-type'], file).toMatch(type)
    expect((await r.body()).equals(fs.readFileSync(path.join(PUBLIC, file))), file).toBe(true)
  }
  expect(await (await request.get('/robots.txt')).text()).toContain('Disallow: /')

  await page.goto('/login')
  await expect(page.locator('link[rel="icon"][href="/favicon.svg"]')).toHaveCount(1)
  await expect(page.locator('link[rel="icon"][href="/favicon.ico"]')).toHaveCount(1)
  await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveAttribute('href', '/apple-touch-icon.png')
})
