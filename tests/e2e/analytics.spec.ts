import type { Page } from '@playwright/test'
import { expect, test } from './fixtures.ts'

/** Picks a dataset by name in the page's dataset chooser (its label also shows the row count). */
async function chooseDataset(page: Page, name: string) {
  const value = await page.locator('select[name=dataset] option', { hasText: name }).first().getAttribute('value')
  await page.locator('select[name=dataset]').selectOption(value!)
}

test('run a segmentation and see the chart, the cluster cards and the silhouette', async ({ page, login }) => {
  await login(page, 'acme-data-scientist')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).click()
  await expect(page.getByRole('heading', { name: 'Segments', exact: true })).toBeVisible()
  await chooseDataset(page, 'telecom-usage-q3')
  await page.getByRole('button', { name: 'Choose' }).click()
  await expect(page.getByLabel('DataUsageGB')).toBeChecked()
  await page.getByLabel('Clusters').selectOption('3')
  await page.getByRole('button', { name: 'Run segmentation' }).click()
  // k-means runs on a pool thread (its first task also starts the thread)
  await expect(page).toHaveURL(/segmentation=\d+/, { timeout: 60_000 })
  await expect(page.getByTestId('cluster-card')).toHaveCount(3)
  await expect(page.getByTestId('silhouette')).toContainText(/0\.\d{3}/)
  const chart = page.getByTestId('segment-scatter')
  await expect(chart.locator('.recharts-scatter-symbol').first()).toBeVisible()
  expect(await chart.locator('.recharts-scatter-symbol').count()).toBeGreaterThan(100)
  // the axes can be swapped to any two features
  await page.getByLabel('x axis').selectOption('CallMinutes')
  await expect(chart.getByText('CallMinutes').first()).toBeVisible()
  await expect(page.getByRole('row').filter({ hasText: 'telecom-usage-q3' }).first()).toBeVisible()
})

test('the Analytics page: statistics, heatmap, a prediction with its band, recommendations', async ({ page, login }) => {
  await login(page, 'acme-data-scientist')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Analytics' }).click()
  await chooseDataset(page, 'network-congestion')
  await page.getByRole('button', { name: 'Analyse' }).click()
  await expect(page.getByTestId('descriptive-row')).toHaveCount(3)
  await expect(page.getByTestId('correlation-heatmap')).toContainText('traffic_load_gbps')
  await page.waitForLoadState('networkidle')
  await page.getByLabel('Interval').selectOption('hour')
  await page.getByLabel('Horizon').fill('12')
  await page.getByRole('button', { name: 'Predict' }).click()
  const chart = page.getByTestId('forecast-chart')
  await expect(chart.locator('.recharts-area').first()).toBeVisible()
  await expect(page.getByText(/holdout r²/)).toBeVisible()
  await page.getByRole('button', { name: 'Recommend' }).click()
  await expect(page.getByTestId('recommendation').first()).toBeVisible()
  await expect(page.getByTestId('optimal-solution')).toContainText('Optimum')
})
