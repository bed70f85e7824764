/**
 * The Hot Dash spec's own base (spec 003, `../shared/API.md`): its eight endpoints also answer at
 * `/api/analytics/...`. Only these eight: the analytics service and the marketplace put routes of their own under
 * `/api/v1/analytics/` (descriptive, assets…) that the HD spec does not name, and they get no alias.
 * Read by `app/routes.ts` and by the test app (`tests/support/app.ts`).
 */
export const hdSpecPaths = [
  'dashboard/summary',
  'dashboard/trends',
  'dashboard/anomalies',
  'agent/queue',
  'agent/accuracy',
  'agent/quality',
  'agent/summary',
  'export/training-data',
] as const

/** `{ path: 'api/analytics/agent/queue', file: 'api.v1.analytics.agent.queue.ts' }` for each. */
export const analyticsAliases = hdSpecPaths.map((p) => ({ path: `api/analytics/${p}`, file: `api.v1.analytics.${p.replaceAll('/', '.')}.ts` }))
