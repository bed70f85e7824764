import { test as base, expect, type Page } from '@playwright/test'

export const DEMO_PASSWORD = 'hotdash-demo'

async function login(page: Page, username: string, password = DEMO_PASSWORD) {
  await page.goto('/login')
  await page.getByLabel('Username or email').fill(username)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible()
}

async function logout(page: Page) {
  await page.getByRole('button', { name: 'Log out' }).click()
  await expect(page).toHaveURL(/\/login/)
}

/** `login` and `logout` as fixtures; each test starts with a fresh browser context (no session). */
export const test = base.extend<{ login: typeof login; logout: typeof logout }>({
  login: async ({}, use) => use(login),
  logout: async ({}, use) => use(logout),
})

export { expect }
