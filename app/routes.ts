import fs from 'node:fs'
import path from 'node:path'
import { route, type RouteConfig } from '@react-router/dev/routes'
import { flatRoutes } from '@react-router/fs-routes'

/**
 * File routes (flat `api.v1.*` resource routes, `_app.*` pages), plus the Hot Dash spec's own base:
 * every `/api/v1/analytics/...` route also answers at `/api/analytics/...`.
 */
const routesDir = path.join(import.meta.dirname, 'routes')
const analyticsAliases = fs
  .readdirSync(routesDir)
  .filter((f) => /^api\.v1\.analytics\..+\.tsx?$/.test(f))
  .map((f) => {
    const segments = f
      .replace(/\.tsx?$/, '')
      .split('.')
      .slice(2)
      .map((s) => (s.startsWith('$') ? `:${s.slice(1)}` : s))
    return route(`api/${segments.join('/')}`, `routes/${f}`, { id: `alias/${f}` })
  })

export default [...(await flatRoutes()), ...analyticsAliases] satisfies RouteConfig
