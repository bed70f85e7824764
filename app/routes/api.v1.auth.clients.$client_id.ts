import { z } from 'zod'
import { revokeApiClient } from '#app/features/auth/api-keys.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { uuidParam } from '#app/http/schemas.ts'

const route = api({
  DELETE: {
    summary: 'Revoke an API client and all its keys',
    tags: ['Auth'],
    permission: 'api_clients.manage',
    params: z.object({ client_id: uuidParam }),
    handler: ({ db, params }) => revokeApiClient(db, params.client_id),
  },
})

export const loader = route.loader
export const action = route.action
