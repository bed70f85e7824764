import { cancelDeployment, getDeployment } from '#app/features/marketplace/marketplace.server.ts'
import { deploymentIdParam } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A deployment's state: status, canary step and share, health check, the new version's live window, its log and notification deliveries (not in the spec)",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: deploymentIdParam,
    handler: ({ db, params }) => getDeployment(db, params.deployment_id),
  },
  DELETE: {
    summary: 'Stop a deployment in flight: the new version loses whatever traffic it had (a canary is removed, a blue-green switch goes back)',
    tags: ['Marketplace'],
    permission: 'assets.write',
    params: deploymentIdParam,
    status: 202,
    handler: ({ db, params }) => cancelDeployment(db, params.deployment_id),
  },
})

export const loader = route.loader
export const action = route.action
