import { expect, test } from './fixtures.ts'

/*
  A forecast model through the API (the demo's network-congestion towers, hourly), then its chart in the UI: pick a
  series and a horizon, see the history, the forecast and the interval band, and the table with its CSV download; then
  the same chart on the model's own page. Then the same kind of model from the New model page.
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

test('train a forecast model from the New model page', async ({ page, login }) => {
  test.setTimeout(180_000)
  await login(page, 'acme-data-scientist')
  await page.goto('/models/new')
  const ds = await page.locator('select[name=dataset_id] option', { hasText: 'network-congestion' }).first().getAttribute('value')
  await page.locator('select[name=dataset_id]').selectOption(ds!)
  await page.getByLabel('Problem type').selectOption('Forecast')
  const name = `towers-ui-${Date.now().toString(36)}`
  await page.getByLabel('Model name').fill(name)
  await page.getByRole('button', { name: 'Next: columns' }).click()
  // the forecast roles, suggested from the column types
  await expect(page.getByLabel('Role of timestamp')).toHaveValue('Timestamp')
  await expect(page.getByLabel('Role of tower_id')).toHaveValue('UniqueId')
  await expect(page.getByLabel('Role of traffic_load_gbps')).toHaveValue('Target')
  // univariate, so the backtest stays short
  await page.getByLabel('Role of connected_users').selectOption('Ignore')
  await page.getByLabel('Role of Congestion_Level_Percent').selectOption('Ignore')
  await page.getByLabel('Frequency').selectOption('Hour')
  // the API's error comes back on its field
  await page.getByLabel('Horizon').fill('1000')
  await page.getByRole('button', { name: 'Train model' }).click()
  await expect(page.getByLabel('Horizon')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByText('must be at most 400', { exact: true })).toBeVisible()
  await page.getByLabel('Horizon').fill('6')
  await page.getByLabel('Backtest origins').fill('1')
  await page.getByRole('button', { name: 'Train model' }).click()
  await expect(page).toHaveURL(/\/models\/\d+$/)
  await expect(page.getByRole('heading', { name })).toBeVisible()
  await expect(page.getByTestId('training-status').first()).toHaveText('completed', { timeout: 150_000 })
  await expect(page.getByTestId('model-forecast-form')).toBeVisible()
})
