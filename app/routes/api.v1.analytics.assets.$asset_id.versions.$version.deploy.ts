import { deployVersion } from '#app/features/marketplace/marketplace.server.ts'
import { deployBody, versionParam } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Deploy a version: blue_green (health check on recorded inputs, then all traffic at once) or canary (a growing share); rollback_threshold watched live, notification_webhooks told of each step (signed)',
    tags: ['Marketplace'],
    permission: 'assets.write',
    params: versionParam,
    body: deployBody,
    status: 202,
    handler: ({ db, caller, params, body }) => deployVersion(db, caller, params.asset_id, params.version, body),
  },
})

export const loader = route.loader
export const action = route.action
