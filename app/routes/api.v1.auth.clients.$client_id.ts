import { revokeApiClient } from '#app/features/auth/auth.server.ts'
import { clientIdParams } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  DELETE: {
    summary: 'Revoke an API client and all its keys',
    tags: ['Auth'],
    permission: 'api_clients.manage',
    params: clientIdParams,
    handler: ({ db, params }) => revokeApiClient(db, params.client_id),
  },
})

export const loader = route.loader
export const action = route.action
