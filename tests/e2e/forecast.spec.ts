import { expect, test } from './fixtures.ts'

/*
  A forecast model through the API (the demo's network-congestion towers, hourly), then its chart in the UI: pick a
  series and a horizon, see the history, the forecast and the interval band, and the table with its CSV download; then
  the same chart on the model's own page.
*/

test('open a forecast chart: pick a series and a horizon', async ({ page, login, request }) => {
  test.setTimeout(180_000)
  const token = await request.post('/api/v1/login/access-token', { form: { username: 'acme-data-scientist', password: 'hotdash-demo' } })
  const headers = { authorization: `Bearer ${(await token.json()).access_token}` }
  const list = await (await request.get('/api/v1/dataset/list', { headers })).json()
  const datasets = (Array.isArray(list) ? list : list.data) as { id: number; dataset_name: string }[]
  const ds = datasets.find((d) => d.dataset_name === 'network-congestion')!
  const name = `towers-${Date.now().toString(36)}`
  const created = await request.post('/api/v1/train/', {
    headers,
    data: {
      dataset_id: ds.id,
      predictor_name: name,
      domain: 'Forecast',
      problem_type: 'Forecast',
      columns: [
        { column_name: 'timestamp', attribute_name: 'Timestamp' },
        { column_name: 'traffic_load_gbps', attribute_name: 'Target' },
        { column_name: 'tower_id', attribute_name: 'unique_id' },
      ],
      frequency: 'Hour',
      forecast: { horizon: 6, origins: 1 },
    },
  })
  expect(created.status(), await created.text()).toBe(201)
  const id = (await created.json()).id
  await expect
    .poll(async () => ((await (await request.get('/api/v1/train/list', { headers })).json()).data.find((t: { id: number }) => t.id === id)?.status as string), { timeout: 150_000 })
    .toBe('completed')

  await login(page, 'acme-data-scientist')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Forecasts' }).click()
  await expect(page.getByRole('heading', { name: 'Forecasts', exact: true })).toBeVisible()
  await page.locator('select[name=train_id]').selectOption(String(id))
  await expect(page.getByLabel('Series')).toBeVisible()
  await page.getByLabel('Series').selectOption('TOWER_003')
  await page.getByLabel('Horizon').fill('10')
  await page.getByRole('button', { name: 'Show forecast' }).click()
  await expect(page).toHaveURL(/series=TOWER_003/)
  const chart = page.getByTestId('forecast-chart')
  await expect(chart.getByTestId('forecast-band')).toBeVisible()
  await expect(chart.getByTestId('forecast-history')).toBeVisible()
  await expect(chart.getByTestId('forecast-line')).toBeVisible()
  await expect(page.getByText(/TOWER_003 ·/)).toBeVisible()
  // ten forecast rows (the table's header row aside), and the backtest of the series
  const rows = page.getByRole('table').first().locator('tbody tr')
  await expect(rows).toHaveCount(10)
  await expect(page.getByRole('cell', { name: 'SeasonalNaive' })).toBeVisible()
  const csv = page.getByRole('link', { name: 'Download CSV' })
  expect(decodeURIComponent((await csv.getAttribute('href'))!)).toMatch(/^data:text\/csv;charset=utf-8,date,value,lower,upper,confidence\n/)

  // The model page draws the same chart, with its own series picker and horizon.
  await page.goto(`/models/${id}`)
  await expect(page.getByRole('heading', { name })).toBeVisible()
  const form = page.getByTestId('model-forecast-form')
  await form.getByLabel('Series').selectOption('TOWER_002')
  await form.getByLabel('Horizon').fill('4')
  await form.getByRole('button', { name: 'Show forecast' }).click()
  await expect(page).toHaveURL(/series=TOWER_002/)
  await expect(page.getByText(/Forecast · TOWER_002 ·/)).toBeVisible()
  const modelChart = page.getByTestId('forecast-chart')
  await expect(modelChart.getByTestId('forecast-band')).toBeVisible()
  await expect(modelChart.getByTestId('forecast-history')).toBeVisible()
  await expect(modelChart.locator('svg')).toHaveAttribute('aria-label', /4-step forecast/)
})
