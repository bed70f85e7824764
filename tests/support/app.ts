import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { createStaticHandler, isRouteErrorResponse, matchRoutes } from 'react-router'
import { analyticsAliases } from '#app/api-aliases.ts'
import type { Db } from '#app/db/db.server.ts'
import { installDb } from '#app/db/index.server.ts'
import { builtinProvider, createTenant, provisionUser, type TokenSet } from '#app/features/auth/auth.server.ts'
import { resetAllRateLimits } from '#app/http/rate-limit.server.ts'
import { createTestDatabase, type TestDatabase } from './db.ts'

const ROUTES_DIR = path.resolve(import.meta.dirname, '../../app/routes')

/** `api.v1.users.$user_id.ts` → `api/v1/users/:user_id` (`api.$.ts` → `api/*`), the same convention as React Router's flat routes. */
export function routePath(file: string) {
  return file
    .replace(/\.tsx?$/, '')
    .replaceAll('[.]', '\u0000')
    .split('.')
    .map((s) => (s === '$' ? '*' : s.startsWith('$') ? `:${s.slice(1)}` : s))
    .join('/')
    .replaceAll('\u0000', '.')
    .replace(/\[([^\]]*)\]/g, '$1')
}

/**
 * The app's resource routes (every `api.*` module, `healthz`, and the HD spec's `/api/analytics/*` aliases), served by
 * React Router's own static handler: real matching, real loaders/actions, Request in, Response out.
 */
type RouteObject = Parameters<typeof createStaticHandler>[0][number]

function buildRoutes(): RouteObject[] {
  const files = fs.readdirSync(ROUTES_DIR).filter((f) => /^(api\..+|healthz)\.ts$/.test(f))
  const lazy = (f: string) => async () => {
    const m = await import(/* @vite-ignore */ path.join(ROUTES_DIR, f))
    return { loader: m.loader, action: m.action }
  }
  return [
    ...files.map((f) => ({ id: f, path: routePath(f), lazy: lazy(f) })),
    ...analyticsAliases.map((a) => ({ id: `alias/${a.file}`, path: a.path, lazy: lazy(a.file) })),
  ]
}

export interface TestUser {
  userId: string
  id: number
  username: string
  email: string
  password: string
  tokens: TokenSet
  /** `Authorization: Bearer <access token>` */
  auth: Record<string, string>
}

export interface TestTenant {
  id: string
  slug: string
  admin: TestUser
  operator: TestUser
  viewer: TestUser
  data_scientist: TestUser
}

export interface TestApp extends TestDatabase {
  fetch(pathname: string, init?: RequestInit & { json?: unknown; form?: Record<string, string> }): Promise<Response>
  createTenant(opts?: { slug?: string }): Promise<TestTenant>
  createUser(tenantId: string, role: string, opts?: { username?: string; password?: string }): Promise<TestUser>
}

/** One test file's app: its own migrated database, fresh rate limits, and a fetch into the route modules. */
export async function setupTestApp(opts: { timeZone?: string } = {}): Promise<TestApp> {
  const database = await createTestDatabase(opts)
  installDb(database.db)
  // Fresh budgets for this file, also in a shared Redis.
  process.env.RATE_LIMIT_NAMESPACE = `test-${crypto.randomBytes(6).toString('hex')}`
  resetAllRateLimits()
  const handler = createStaticHandler(buildRoutes())
  const routes = handler.dataRoutes

  async function fetchApp(pathname: string, init: RequestInit & { json?: unknown; form?: Record<string, string> } = {}) {
    const headers = new Headers(init.headers)
    let body = init.body
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(init.json)
    } else if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded')
      body = new URLSearchParams(init.form).toString()
    }
    const request = new Request(new URL(pathname, 'http://hotdash.test'), { ...init, headers, body })
    if (!matchRoutes(routes, new URL(request.url).pathname)) return new Response('no route', { status: 404 })
    try {
      const result = await handler.queryRoute(request)
      return result instanceof Response ? result : Response.json(result)
    } catch (e) {
      if (e instanceof Response) return e
      if (isRouteErrorResponse(e)) return new Response(String(e.data), { status: e.status })
      throw e
    }
  }

  async function createUser(tenantId: string, role: string, opts: { username?: string; password?: string } = {}): Promise<TestUser> {
    const username = opts.username ?? `${role}-${crypto.randomBytes(4).toString('hex')}`
    const password = opts.password ?? `pw-${crypto.randomBytes(8).toString('hex')}`
    const email = `${username}@test.example`
    const p = await provisionUser(database.db, { tenantId, email, username, password, roles: [role] })
    const tokens = (await builtinProvider.signIn(database.db, username, password))!
    return { userId: p.user_id, id: p.id, username, email, password, tokens, auth: { authorization: `Bearer ${tokens.access_token}` } }
  }

  async function newTenant(opts: { slug?: string } = {}): Promise<TestTenant> {
    const slug = opts.slug ?? `t-${crypto.randomBytes(4).toString('hex')}`
    const t = await createTenant(database.db, { name: `Tenant ${slug}`, slug })
    const [admin, operator, viewer, data_scientist] = await Promise.all(
      ['admin', 'operator', 'viewer', 'data_scientist'].map((r) => createUser(t.id, r, { username: `${slug}-${r}` })),
    )
    return { id: t.id, slug, admin, operator, viewer, data_scientist }
  }

  return { ...database, fetch: fetchApp, createTenant: newTenant, createUser }
}

/** Reads a JSON body and returns it with the status, for compact assertions. */
export async function json<T = any>(res: Response | Promise<Response>): Promise<{ status: number; body: T; headers: Headers }> {
  const r = await res
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers }
}

/** Creates a template as `user` through the API; returns its id. */
export async function createTemplate(app: TestApp, user: TestUser, name: string, schema: { column_name: string; data_type: string; default_value?: string | null }[]) {
  const r = await json(app.fetch('/api/v1/template/', { method: 'POST', headers: user.auth, json: { template_name: name, template_schema: schema } }))
  if (r.status !== 201) throw new Error(`template ${name}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.id as number
}

/** Uploads one CSV text as a new dataset through the API (`qs`: dataset_name, usage, template_id…). */
export function uploadCsv(app: TestApp, user: TestUser, qs: string, text: string, fileName = 'f.csv') {
  const form = new FormData()
  form.append('files', new Blob([text]), fileName)
  return json(app.fetch(`/api/v1/dataset/upload?${qs}`, { method: 'POST', headers: user.auth, body: form }))
}

export type { Db }

/** Uploads a dataset through the API with its template; returns the dataset id. */
export async function uploadDataset(app: TestApp, user: TestUser, name: string, schema: { column_name: string; data_type: string }[], csv: string) {
  const templateId = await createTemplate(app, user, `${name} template`, schema)
  const r = await uploadCsv(app, user, `dataset_name=${name}&usage=train&template_id=${templateId}&iceberg_table_name=${name}`, csv, `${name}.csv`)
  if (r.status !== 201) throw new Error(`upload ${name}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.dataset_id as number
}
