import { describeDataset } from '#app/features/analytics/analytics.server.ts'
import { descriptiveBody } from '#app/features/analytics/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Descriptive statistics of a dataset: metrics per column, by group, over a date range and filters',
    tags: ['Analytics service'],
    permission: 'analytics.read',
    body: descriptiveBody,
    handler: ({ db, caller, body }) => describeDataset(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
