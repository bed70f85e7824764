import { prescribeDataset } from '#app/features/analytics/analytics.server.ts'
import { prescriptiveBody } from '#app/features/analytics/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Optimise decision variables under constraints with HiGHS, from response curves fitted to the data (or an explicit LP)',
    tags: ['Analytics service'],
    permission: 'analytics.read',
    body: prescriptiveBody,
    handler: ({ db, caller, body }) => prescribeDataset(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
