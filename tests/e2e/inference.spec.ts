import fs from 'node:fs'
import { DEMO_PASSWORD, expect, test } from './fixtures.ts'

/*
  The prediction pages in a real browser on the embedded app: a model trained through the API on the demo telecom
  dataset, then its form filled (inline validation, the answer and its contributions chart), a batch run, its CSV
  downloaded and its gold table previewed, and the Predictions log.
*/

test('fill the prediction form and see the answer; run a batch and download it; the log lists both', async ({ page, login, request }) => {
  test.setTimeout(300_000)
  const tok = await request.post('/api/v1/login/access-token', { form: { username: 'acme-data-scientist', password: DEMO_PASSWORD } })
  expect(tok.status()).toBe(200)
  const auth = { authorization: `Bearer ${(await tok.json()).access_token}` }
  const list = await (await request.get('/api/v1/dataset/list', { headers: auth })).json()
  const dataset = list.data.find((d: { dataset_name: string }) => d.dataset_name === 'telecom-usage-q3')
  const train = await request.post('/api/v1/train/', {
    headers: auth,
    data: {
      dataset_id: dataset.id,
      predictor_name: `e2e-churn-${Date.now().toString(36)}`,
      domain: 'Churn',
      problem_type: 'Classification',
      algorithm: 'xgboost',
      shap_enabled: false,
      hyperparameters: { n_estimators: 20, max_depth: 3 },
      columns: [
        { column_name: 'CustomerID', attribute_name: 'Id' },
        { column_name: 'Churn', attribute_name: 'Target' },
      ],
    },
  })
  expect(train.status(), await train.text()).toBe(201)
  const trainId = (await train.json()).id
  await expect
    .poll(async () => ((await (await request.get('/api/v1/train/list?limit=500', { headers: auth })).json()).data.find((t: { id: number }) => t.id === trainId)?.status), { timeout: 180_000 })
    .toBe('completed')

  await login(page, 'acme-data-scientist')
  await page.goto(`/models/${trainId}/predict`)
  await expect(page.getByRole('heading', { name: /Predict with e2e-churn/ })).toBeVisible()
  const usage = page.getByLabel(/^DataUsageGB/)
  await expect(usage).not.toHaveValue('')
  // Inline validation: a number column refuses letters before anything is sent.
  await usage.fill('lots')
  await expect(page.getByText('must be a number')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Predict' })).toBeDisabled()
  await usage.fill('42.5')
  await page.getByLabel(/^PlanType/).fill('Premium')
  await page.getByRole('button', { name: 'Predict' }).click()
  await expect(page.getByTestId('prediction-value')).toHaveText(/^(true|false)$/, { timeout: 30_000 })
  await expect(page.getByText(/P\(true\) = 0\.\d{3}/)).toBeVisible()
  await expect(page.getByTestId('contributions-chart').locator('.recharts-bar-rectangle').first()).toBeVisible()

  // A batch over the same dataset: progress, then the CSV and the gold table.
  await page.getByLabel('Dataset').selectOption(String(dataset.id))
  await page.getByRole('button', { name: 'Run batch' }).click()
  const download = page.getByRole('link', { name: 'Download CSV' }).first()
  await expect(download).toBeVisible({ timeout: 120_000 })
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()])
  const text = fs.readFileSync((await file.path())!, 'utf8')
  const lines = text.trim().split('\r\n')
  expect(lines[0]).toBe('CustomerID,prediction,probability,reason_1_feature,reason_1_shap,reason_1_direction,reason_2_feature,reason_2_shap,reason_2_direction,reason_3_feature,reason_3_shap,reason_3_direction')
  // One line per valid (silver) row: the count the batch reports.
  const batches = await (await request.get(`/api/v1/inference/predictions?train_id=${trainId}&prediction_type=batch`, { headers: auth })).json()
  expect(batches.data[0].no_of_records).toBeGreaterThan(1000)
  expect(lines.length - 1).toBe(batches.data[0].no_of_records)
  await page.getByRole('link', { name: /^Preview gold\./ }).first().click()
  await expect(page.getByTestId('gold-preview')).toContainText('reason_1_feature')

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Predictions' }).click()
  await expect(page.getByRole('heading', { name: 'Predictions', exact: true })).toBeVisible()
  await page.getByLabel('Model').selectOption(String(trainId))
  await page.getByRole('button', { name: 'Filter' }).click()
  await expect(page.getByRole('row').filter({ hasText: 'realtime' }).first()).toBeVisible()
  await expect(page.getByRole('row').filter({ hasText: 'batch' }).first()).toBeVisible()
})
