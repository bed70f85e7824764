import { expect, test } from './fixtures.ts'

// Needs the operations demo data (app/demo/ops.server.ts wired into the demo seeders).

test('the dashboard renders KPI tiles, the trend chart and the anomalies', async ({ page, login }) => {
  await login(page, 'acme-operator')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click()
  await expect(page.getByRole('heading', { name: 'Operations dashboard' })).toBeVisible()
  await expect(page.getByTestId('kpi-tile')).toHaveCount(8)
  await expect(page.getByTestId('kpi-tile').first()).toContainText(/Orders \(24 h\)\s*[\d,]+/i)
  await expect(page.getByTestId('trend-chart').locator('svg.recharts-surface').first()).toBeVisible()
  // the demo data carries injected incidents: at least one anomaly with a severity badge
  await expect(page.getByTestId('anomaly-list').getByText(/critical|high|medium/i).first()).toBeVisible()
  // the window selector reloads the chart for 72 hours
  await page.getByLabel('Window').selectOption('72')
  await expect(page).toHaveURL(/hours=72/)
  await expect(page.getByTestId('trend-chart')).toHaveAttribute('data-hours', '72')
})

test('approving a draft removes it from the queue and updates the counts', async ({ page, login }) => {
  await login(page, 'acme-operator')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approval queue' }).click()
  await expect(page.getByRole('heading', { name: 'Approval queue' })).toBeVisible()
  const total = Number(await page.getByTestId('pending-total').textContent())
  expect(total).toBeGreaterThan(1)
  const first = page.getByTestId('queue-list').getByRole('option').first()
  const firstText = (await first.textContent())!
  await page.getByRole('button', { name: /^Approve/ }).click()
  await expect(page.getByTestId('pending-total')).toHaveText(String(total - 1))
  await page.reload()
  await expect(page.getByTestId('pending-total')).toHaveText(String(total - 1))
  await expect(page.getByTestId('queue-list').getByRole('option').first()).not.toHaveText(firstText)
  // keyboard: "r" rejects the selected draft
  await page.keyboard.press('r')
  await expect(page.getByTestId('pending-total')).toHaveText(String(total - 2))
})
