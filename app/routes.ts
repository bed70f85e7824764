import { route, type RouteConfig } from '@react-router/dev/routes'
import { flatRoutes } from '@react-router/fs-routes'
import { analyticsAliases } from './api-aliases.ts'

/** File routes (flat `api.v1.*` resource routes, `_app.*` pages), plus the HD spec's eight paths under `/api/analytics/`. */
export default [
  ...(await flatRoutes()),
  ...analyticsAliases.map((a) => route(a.path, `routes/${a.file}`, { id: `alias/${a.file}` })),
] satisfies RouteConfig
