import { expect, test } from './fixtures.ts'

test('train a model through the wizard, watch it complete, see its metrics and importance', async ({ page, login }) => {
  test.setTimeout(150_000)
  await login(page, 'acme-data-scientist')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models' }).click()
  await expect(page.getByRole('heading', { name: 'Models', exact: true })).toBeVisible()
  await page.getByRole('link', { name: 'New model' }).click()

  // 1. dataset and name → the schema from get_details, with the suggested roles
  const churn = await page.locator('select[name=dataset_id] option', { hasText: 'customer-churn' }).first().getAttribute('value')
  await page.locator('select[name=dataset_id]').selectOption(churn!)
  await page.getByLabel('Model name').fill('e2e-wizard')
  await page.getByRole('button', { name: 'Next: columns' }).click()
  await expect(page.getByTestId('column-row')).toHaveCount(15)
  await expect(page.getByLabel('Role of Churn')).toHaveValue('Target')
  await expect(page.getByLabel('Role of customerID')).toHaveValue('Id')
  await expect(page.getByLabel('Algorithm')).toHaveValue('auto')

  // an invalid hyperparameter comes back inline, naming the field
  await page.getByText('Advanced: validation and hyperparameters').click()
  await page.getByLabel('Max depth').fill('40')
  await page.getByLabel('Rounds (n_estimators)').fill('30')
  await page.getByRole('button', { name: 'Train model' }).click()
  await expect(page.getByText('must be at most 16', { exact: true })).toBeVisible()
  await expect(page.getByLabel('Max depth')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByRole('alert').filter({ hasText: 'hyperparameters.max_depth' })).toBeVisible()

  // choosing another Target demotes the old one (exactly one Target)
  await page.getByLabel('Role of tenure').selectOption('Target')
  await expect(page.getByLabel('Role of Churn')).toHaveValue('Feature')
  await page.getByLabel('Role of Churn').selectOption('Target')
  await page.getByLabel('Role of gender').selectOption('Ignore')
  await page.getByLabel('Max depth').fill('4')
  await page.getByLabel('Cross-validation folds').fill('3')
  await page.getByRole('button', { name: 'Train model' }).click()

  // the model page follows the job to the end
  await expect(page).toHaveURL(/\/models\/\d+$/)
  await expect(page.getByRole('heading', { name: 'e2e-wizard' })).toBeVisible()
  await expect(page.getByTestId('training-status').first()).toHaveText('completed', { timeout: 120_000 })
  const auc = Number(await page.getByTestId('metric-roc_auc').locator('p').nth(1).textContent())
  expect(auc).toBeGreaterThan(0.7)
  expect(auc).toBeLessThanOrEqual(1)
  await expect(page.getByTestId('confusion-matrix').locator('td')).toHaveCount(4)
  await expect(page.getByTestId('roc-curve').locator('.recharts-line').first()).toBeVisible()
  await expect(page.getByTestId('pr-curve').locator('.recharts-line').first()).toBeVisible()
  await expect(page.getByTestId('leaderboard-row')).toHaveCount(2)
  await expect(page.getByTestId('cv-row')).toHaveCount(2)
  await expect(page.getByTestId('importance-chart').locator('.recharts-bar-rectangle').first()).toBeVisible()
  // one bar per feature (a feature no tree used has a zero-width bar): 15 columns less the Id, the Target and gender
  await expect(page.getByTestId('importance-chart').locator('.recharts-yAxis .recharts-cartesian-axis-tick')).toHaveCount(12)
  await expect(page.getByTestId('importance-chart')).toContainText('Contract')
  await expect(page.getByRole('link', { name: 'Download model' })).toHaveAttribute('href', /\/api\/v1\/train\/download-model\/\d+/)

  // the list shows it with its metric; delete asks first
  await page.getByRole('link', { name: 'All models' }).click()
  const row = page.getByTestId('training-row').filter({ hasText: 'e2e-wizard' })
  await expect(row).toContainText('roc_auc')
  await row.getByRole('button', { name: 'Delete' }).click()
  await row.getByRole('button', { name: 'Yes, delete' }).click()
  await expect(page.getByRole('status')).toContainText('deleted')
  await expect(page.getByTestId('training-row').filter({ hasText: 'e2e-wizard' })).toHaveCount(0)
})

test('the demo tenant has a churn model trained by a job after first boot', async ({ page, login }) => {
  await login(page, 'globex-viewer')
  await page.goto('/models')
  const row = page.getByTestId('training-row').filter({ hasText: 'churn-model' })
  await expect(row).toBeVisible()
  await expect(row.getByTestId('training-status')).toHaveText('completed', { timeout: 90_000 })
  await row.getByRole('link', { name: 'churn-model' }).click()
  await expect(page.getByTestId('metric-tiles')).toBeVisible()
  await expect(page.getByTestId('importance-chart').locator('.recharts-bar-rectangle').first()).toBeVisible()
  // a viewer reads, but cannot train or delete
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0)
})
