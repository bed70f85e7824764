import { clusterDataset } from '#app/features/analytics/analytics.server.ts'
import { clusterBody } from '#app/features/analytics/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'k-means segmentation of standardised features: clusters, silhouette, inertia; assignments written to a gold table',
    tags: ['Analytics service'],
    permission: 'analytics.write',
    body: clusterBody,
    handler: ({ db, caller, body }) => clusterDataset(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
