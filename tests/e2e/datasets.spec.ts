import path from 'node:path'
import { expect, test } from './fixtures.ts'

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/csv/telecom_defects.csv')

test('upload a CSV with bad rows, see and download the error report, see the statistics', async ({ page, login }) => {
  const suffix = Date.now().toString(36)
  await login(page, 'acme-data-scientist')

  // A template for the fixture's columns.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click()
  await expect(page.getByRole('heading', { name: 'Templates', exact: true })).toBeVisible()
  await page.waitForLoadState('networkidle') // the column editor is interactive once hydrated
  await page.getByLabel('Template name').fill(`Telecom ${suffix}`)
  const cols: [string, string][] = [
    ['CustomerID', 'String'], ['DataUsageGB', 'Float'], ['Calls', 'Integer'], ['Active', 'Boolean'], ['SignupDate', 'Date'], ['LastSeen', 'DateTime'],
  ]
  for (let i = 0; i < cols.length; i++) {
    if (i > 0) await page.getByRole('button', { name: '+ Add column' }).click()
    await page.getByLabel(`Column ${i + 1} name`).fill(cols[i][0])
    await page.getByLabel(`Column ${i + 1} type`).selectOption(cols[i][1])
  }
  await page.getByRole('button', { name: 'Create template' }).click()
  await expect(page.getByRole('cell', { name: `Telecom ${suffix}` })).toBeVisible()

  // Upload: progress, then the validation result.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Datasets' }).click()
  await expect(page.getByRole('heading', { name: 'Datasets', exact: true })).toBeVisible()
  await page.waitForLoadState('networkidle') // the upload runs through XMLHttpRequest once hydrated
  await page.getByLabel('Dataset name').fill(`defects ${suffix}`)
  await page.getByLabel('Template').selectOption({ label: `Telecom ${suffix}` })
  await page.getByLabel('CSV file(s)').setInputFiles(FIXTURE)
  await page.getByRole('button', { name: 'Upload' }).click()
  const result = page.getByTestId('upload-result')
  await expect(result).toContainText('8 rows × 6 columns')
  await expect(result).toContainText('4 invalid row(s), 6 error(s)')

  // The dataset page: the per-row report, its CSV download, the statistics.
  await result.getByRole('link', { name: `defects ${suffix}` }).click()
  const report = page.getByTestId('error-report')
  await expect(report.getByRole('cell', { name: 'invalid_float' })).toBeVisible()
  await expect(report.getByRole('cell', { name: '99999999999999999999' })).toBeVisible()
  const download = page.waitForEvent('download')
  await page.getByRole('link', { name: 'Download error report (CSV)' }).click()
  const file = await download
  const csv = await (await file.createReadStream()).toArray()
  expect(Buffer.concat(csv).toString()).toContain('5,LastSeen,not-a-date,invalid_datetime')

  await page.getByRole('button', { name: 'Generate statistics' }).click()
  await expect(page.getByTestId('stats-status')).toHaveText('completed', { timeout: 30_000 })
  await expect(page.getByRole('cell', { name: 'DataUsageGB' }).first()).toBeVisible()
})

test('types inferred without a template are shown and can be kept as a template', async ({ page, login }) => {
  await login(page, 'acme-data-scientist')
  await page.goto('/datasets')
  await page.getByRole('link', { name: 'network-congestion' }).click()
  await expect(page.getByRole('heading', { name: 'Inferred column types' })).toBeVisible()
  await expect(page.getByText('traffic_load_gbps: Float')).toBeVisible()
  await page.waitForLoadState('networkidle')
  await page.getByRole('button', { name: 'Keep these types as a template' }).click()
  await expect(page.getByText('Saved as a template.')).toBeVisible()
  await page.goto('/templates')
  await expect(page.getByRole('cell', { name: 'network-congestion columns' })).toBeVisible()
})
