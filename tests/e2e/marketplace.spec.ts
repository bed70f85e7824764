import fs from 'node:fs'
import type { APIRequestContext } from '@playwright/test'
import { DEMO_PASSWORD, expect, test } from './fixtures.ts'

/*
  The marketplace in a real browser on the embedded app: Acme's data scientist publishes an asset from the demo churn
  model (trained at first boot) with a free tier of 2 requests; Globex's operator finds it in the catalogue, executes
  it from the form generated from its input schema (inline validation, key factors), runs into the free tier (402),
  accepts the pricing and is billed; both sides' usage is checked against the API's meter.
*/

const PREFIX = `e2e-mkt-${Date.now().toString(36)}`

async function bearer(request: APIRequestContext, username: string) {
  const tok = await request.post('/api/v1/login/access-token', { form: { username, password: DEMO_PASSWORD } })
  expect(tok.status()).toBe(200)
  return { authorization: `Bearer ${(await tok.json()).access_token}` }
}

test('publish an asset from a trained model, execute it as another tenant, see the usage on both sides', async ({ page, login, logout, request }) => {
  test.setTimeout(300_000)
  const acme = await bearer(request, 'acme-data-scientist')
  // The demo churn model is queued at first boot; wait for it.
  const churnModel = async () => (await (await request.get('/api/v1/train/list?limit=500', { headers: acme })).json()).data.find((t: { predictor_name: string }) => t.predictor_name === 'churn-model')
  await expect.poll(async () => (await churnModel())?.status, { timeout: 180_000 }).toBe('completed')
  const trainId = String((await churnModel()).id)

  // Provider: create from the model, then publish.
  await login(page, 'acme-data-scientist')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Marketplace' }).click()
  await page.getByRole('link', { name: 'Provider console' }).click()
  await expect(page.getByRole('heading', { name: 'Provider console' })).toBeVisible()
  await page.getByRole('combobox', { name: 'Trained model' }).selectOption(trainId)
  const create = page.getByRole('form', { name: 'Create asset' })
  await create.getByLabel('Name').fill(`${PREFIX} churn risk`)
  await create.getByLabel('Description').fill('Churn probability, risk level and key factors per customer.')
  await create.getByLabel('Category').fill('customer_analytics')
  await create.getByLabel('Price per request').fill('0.05')
  await create.getByLabel('Free requests per period').fill('2')
  await create.getByRole('button', { name: 'Create draft asset' }).click()
  await expect(page.getByRole('heading', { name: `${PREFIX} churn risk` })).toBeVisible({ timeout: 30_000 })
  const assetId = page.url().split('/').pop()!
  expect(assetId).toMatch(/^asset_/)
  await expect(page.getByTestId('asset-pricing')).toHaveText('$0.05 per request · 2 free per month')
  await expect(page.getByRole('cell', { name: 'MonthlyCharges', exact: true })).toBeVisible()
  await expect(page.getByTestId('versions-timeline')).toContainText('1.0.0')
  await page.getByRole('button', { name: 'Publish' }).click()
  await expect(page.getByText('Now published')).toBeVisible()
  await logout(page)

  // Consumer of another tenant: find it, execute it.
  await login(page, 'globex-operator')
  await page.goto('/marketplace')
  await page.getByLabel('Search').fill(PREFIX)
  await page.getByRole('button', { name: 'Filter' }).click()
  await expect(page.getByTestId('asset-row')).toHaveCount(1)
  await expect(page.getByTestId('asset-row')).toContainText('Acme Outfitters')
  await page.getByRole('link', { name: `${PREFIX} churn risk` }).click()
  await expect(page.getByTestId('subscription-state')).toHaveText('not subscribed')
  // Inline validation from the input schema: an integer field refuses letters before anything is sent.
  const tenure = page.getByLabel(/^tenure/)
  await tenure.fill('two')
  await expect(page.getByText('must be an integer')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Execute' })).toBeDisabled()
  await tenure.fill('2')
  await page.getByLabel(/^MonthlyCharges/).fill('95.5')
  await page.getByLabel(/^TotalCharges/).fill('191')
  await page.getByLabel(/^Contract/).fill('Month-to-month')
  await page.getByLabel(/^InternetService/).fill('Fiber optic')
  const execute = async () => {
    await page.getByRole('button', { name: 'Execute' }).click()
    await expect(page.getByRole('button', { name: 'Execute' })).toBeEnabled({ timeout: 30_000 })
  }
  await execute()
  await expect(page.getByTestId('result-risk_level')).toHaveText(/^(low|medium|high)$/)
  const p = Number(await page.getByTestId('result-churn_probability').textContent())
  expect(p).toBeGreaterThan(0)
  expect(p).toBeLessThan(1)
  await expect(page.getByTestId('key-factors').locator('li').first()).toBeVisible()
  await expect(page.getByTestId('free-tier-used')).toHaveText('1')
  await execute()
  await expect(page.getByTestId('free-tier-used')).toHaveText('2')
  // Past the free tier without a billing agreement: refused (402), with the way out.
  await execute()
  await expect(page.getByText(/free tier of 2 requests per month is used up/)).toBeVisible()
  await page.getByRole('button', { name: 'Accept pricing' }).click()
  await page.getByRole('button', { name: 'Yes, accept pricing' }).click()
  await expect(page.getByText(/Webhook signing secret/)).toBeVisible()
  await execute()
  await expect(page.getByTestId('free-tier')).toContainText('1 refused past the free tier · 1 billed ($0.05)')
  await expect(page.getByTestId('execution-row')).toHaveCount(4)

  // A batch from a CSV: three records, one of them bad; it runs in the background and its results download as CSV.
  const header = 'id,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,InternetService,TechSupport,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,customerID'
  const csv = [header, 'a,Male,false,true,false,12,true,DSL,true,One year,false,Mailed check,55.2,662.4,C-1', 'b,Female,true,false,false,lots,true,Fiber optic,false,Month-to-month,true,Electronic check,99,99,C-2', 'c,Female,false,false,true,40,false,DSL,true,Two year,false,Bank transfer (automatic),30.1,1204,C-3'].join('\n')
  await page.getByLabel(/^CSV file/).setInputFiles({ name: 'batch.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await expect(page.getByTestId('batch-preview')).toContainText('3 records read')
  await page.getByRole('button', { name: 'Run batch' }).click()
  const batchRow = page.getByTestId('batch-row').first()
  await expect(batchRow.getByTestId('batch-succeeded')).toHaveText('2', { timeout: 60_000 })
  await expect(batchRow.getByTestId('batch-failed')).toHaveText('1')
  const [file] = await Promise.all([page.waitForEvent('download'), batchRow.getByRole('button', { name: 'Download results CSV' }).click()])
  const lines = fs.readFileSync((await file.path())!, 'utf8').trim().split('\r\n')
  expect(lines).toHaveLength(4)
  expect(lines[0].split(',')).toEqual(expect.arrayContaining(['id', 'status', 'risk_level', 'error_code']))
  expect(lines.filter((l) => l.includes('VALIDATION_ERROR'))).toHaveLength(1)
  expect(lines.find((l) => l.startsWith('b,'))).toContain('batch_data.1.input_data.tenure')

  // The page's figures are the meter's: the API (as Globex) says the same (the batch's two successes are billed).
  const globex = await bearer(request, 'globex-operator')
  const sub = (await (await request.get(`/api/v1/analytics/assets/${assetId}/subscription`, { headers: globex })).json()).data
  expect(sub.usage).toMatchObject({ used_this_period: 5, free_tier_requests: 2, refused_for_quota: 1, billed_requests: 3, billed_amount: 0.15, total_requests: 5 })
  await logout(page)

  // The provider sees the consumer and the revenue.
  await login(page, 'acme-data-scientist')
  await page.goto(`/marketplace/${assetId}`)
  const row = page.getByTestId('consumer-row')
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('Globex Supply')
  await expect(row.getByRole('cell').nth(1)).toHaveText('5')
  await expect(page.getByTestId('usage-chart').locator('.recharts-bar-rectangle').first()).toBeVisible()
  const own = (await (await request.get(`/api/v1/analytics/assets/${assetId}`, { headers: acme })).json()).data
  expect(own.usage_statistics).toMatchObject({ total_requests: 5, unique_customers: 1 })
  expect(own.marketplace_info.total_revenue).toBe(0.15)

  // A new version (other risk thresholds) waits as a candidate; a canary deploy starts at its first share and is stopped.
  const version = page.getByRole('form', { name: 'New version' })
  await version.getByLabel('Medium risk from').fill('0.2')
  await version.getByLabel('High risk from').fill('0.5')
  await version.getByRole('button', { name: 'Make a new version' }).click()
  await expect(page.getByText(/Version 1\.1\.0 \(candidate\)/)).toBeVisible()
  const deploy = page.getByRole('form', { name: 'Deploy version' })
  await expect(deploy.getByLabel('Version')).toHaveValue('1.1.0')
  await deploy.getByLabel('Roll back above error rate').fill('0.1')
  await deploy.getByRole('button', { name: 'Deploy' }).click()
  await expect(page.getByTestId('deployment')).toContainText('1.0.0 → 1.1.0')
  await expect(page.getByTestId('canary-share')).toHaveText('5%', { timeout: 30_000 })
  await page.getByRole('button', { name: 'Stop deployment' }).click()
  await page.getByRole('button', { name: 'Yes, stop deployment' }).click()
  await expect(page.getByTestId('deployment').locator('span', { hasText: /^(rolled_back|failed)$/ })).toBeVisible({ timeout: 30_000 })

  // Train the asset's model again from the Train panel: checked as you type, followed while it runs, its log, its version.
  const train = page.getByRole('form', { name: 'Train' })
  await train.getByLabel('Validation split').fill('0.9')
  await expect(train.getByText('must be at most 0.5')).toBeVisible()
  await expect(train.getByRole('button', { name: 'Start training' })).toBeDisabled()
  await train.getByLabel('Validation split').fill('0.25')
  await train.getByRole('button', { name: 'Start training' }).click()
  await expect(page.getByText(/Training job_[0-9a-z]+ started/)).toBeVisible()
  const training = page.getByTestId('training-row').first()
  const made = training.getByTestId('training-result').getByRole('link', { name: /^version \d+\.\d+\.\d+$/ })
  await expect(made).toBeVisible({ timeout: 120_000 })
  await training.getByRole('button', { name: 'Log' }).click()
  await expect(page.getByTestId('training-log')).toContainText('versioning: version')
  const madeVersion = (await made.textContent())!.replace('version ', '')
  await made.click()
  await expect(page.locator(`[id="version-${madeVersion}"]`)).toBeInViewport()
  await expect(page.getByTestId('versions-timeline')).toContainText(madeVersion)
})
