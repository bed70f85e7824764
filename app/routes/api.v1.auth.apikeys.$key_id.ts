import { revokeApiKey } from '#app/features/auth/auth.server.ts'
import { keyIdParams } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  DELETE: {
    summary: 'Revoke an API key',
    tags: ['Auth'],
    permission: 'api_clients.manage',
    params: keyIdParams,
    handler: ({ db, params }) => revokeApiKey(db, params.key_id),
  },
})

export const loader = route.loader
export const action = route.action
