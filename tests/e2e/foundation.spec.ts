import { expect, test } from './fixtures.ts'

test('an admin creates a user, who can then log in', async ({ page, login, logout }) => {
  const username = `e2e-${Date.now().toString(36)}`
  await login(page, 'acme-admin')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click()
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible()
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Email').fill(`${username}@acme.example`)
  await page.getByLabel('Password').fill('short')
  await page.getByRole('button', { name: 'Create user' }).click()
  await expect(page.getByText('must be at least 8 characters')).toBeVisible()
  await page.getByLabel('Password').fill('a-long-password-1')
  await page.getByRole('button', { name: 'Create user' }).click()
  await expect(page.getByText(`Created ${username}.`)).toBeVisible()
  await expect(page.getByRole('cell', { name: username, exact: true })).toBeVisible()
  await logout(page)
  await login(page, username, 'a-long-password-1')
  await expect(page.getByRole('heading', { name: `Welcome, ${username}` })).toBeVisible()
})

test('a viewer is refused an admin page', async ({ page, login }) => {
  await login(page, 'acme-viewer')
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0)
  const res = await page.goto('/admin/users')
  expect(res?.status()).toBe(403)
  await expect(page.getByRole('heading', { name: 'You do not have access to this page' })).toBeVisible()
})

test('an unknown address renders the 404 page', async ({ page }) => {
  const res = await page.goto('/no/such/page')
  expect(res?.status()).toBe(404)
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible()
})

test('an admin registers an API client and sees its secret once', async ({ page, login, request }) => {
  await login(page, 'acme-admin')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API clients & keys' }).click()
  await page.getByLabel('Name').fill('e2e-etl')
  await page.getByRole('button', { name: 'Register' }).click()
  const key = await page.getByTestId('api-key').textContent()
  expect(key).toMatch(/^hd_sk_/)
  const r = await request.get('/api/v1/validate-token', { headers: { authorization: `Bearer ${key}` } })
  expect(r.status()).toBe(200)
  await page.reload()
  await expect(page.getByTestId('client-secret')).toHaveCount(0)
})

test('logged-out visitors are sent to the login page', async ({ page }) => {
  await page.goto('/admin/users')
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fadmin%2Fusers/)
})

test('the API reference renders the OpenAPI document by area', async ({ page, login }) => {
  await login(page, 'acme-viewer')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API reference' }).click()
  await expect(page.getByRole('heading', { name: 'API reference' })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'Login' })).toBeVisible()
  const op = page.locator('details', { hasText: '/api/v1/users/create-user' })
  await op.getByText('/api/v1/users/create-user').click()
  await expect(op.getByText('Permission: users.write')).toBeVisible()
})
