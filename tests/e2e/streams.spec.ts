import { DEMO_PASSWORD, expect, test } from './fixtures.ts'

test('create an http stream and watch it update live as events arrive (SSE)', async ({ page, login, request }) => {
  await login(page, 'acme-data-scientist')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Streams' }).click()
  await expect(page.getByRole('heading', { name: 'Streams', exact: true })).toBeVisible()
  const name = `e2e-${Date.now()}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Window').fill('10s')
  await page.getByRole('button', { name: 'Create stream' }).click()
  await expect(page).toHaveURL(/stream=stream_[0-9a-f]{16}/)
  await expect(page.getByTestId('live-state')).toContainText('live')
  await expect(page.getByText('No windows yet')).toBeVisible()
  const id = new URL(page.url()).searchParams.get('stream')!

  // A producer outside the page: events POSTed through the API with a token; the page hears of them over SSE.
  const tok = await request.post('/api/v1/login/access-token', { form: { username: 'acme-data-scientist', password: DEMO_PASSWORD } })
  expect(tok.ok()).toBe(true)
  const auth = { authorization: `Bearer ${(await tok.json()).access_token}` }
  const now = Date.now()
  const events = Array.from({ length: 40 }, (_, i) => ({ timestamp: now - i * 10, value: i + 1 }))
  const sent = await request.post(`/api/v1/stream/${id}/events`, { headers: auth, data: { events } })
  expect(sent.status(), await sent.text()).toBe(200)
  await expect(page.getByTestId('tile-events')).toHaveText('40')
  const rows = page.getByTestId('window-row')
  await expect(rows.first()).toBeVisible()
  // the windows shown are the API's: their counts add up to what was sent
  const counts = async () => (await page.getByTestId('cell-count').allTextContents()).reduce((s, t) => s + Number(t.replace(/,/g, '')), 0)
  await expect.poll(counts).toBe(40)
  await expect(page.getByTestId('stream-chart').locator('svg.recharts-surface').first()).toBeVisible()
  await expect(page.getByTestId('stream-chart').locator('.recharts-line-dot, .recharts-dot').first()).toBeAttached()

  // a second batch moves the same page without a reload
  const more = await request.post(`/api/v1/stream/${id}/events`, { headers: auth, data: { events: events.map((e) => ({ ...e, timestamp: e.timestamp + 1 })) } })
  expect(more.status()).toBe(200)
  await expect(page.getByTestId('tile-events')).toHaveText('80')
  await expect.poll(counts).toBe(80)

  // the page's own button sends through the same path
  await page.getByRole('button', { name: 'Send test events' }).click()
  await expect(page.getByTestId('tile-events')).toHaveText('130')
})
