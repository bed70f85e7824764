import { z } from 'zod'
import { revokeApiKey } from '#app/features/auth/api-keys.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { uuidParam } from '#app/http/schemas.ts'

const route = api({
  DELETE: {
    summary: 'Revoke an API key',
    tags: ['Auth'],
    permission: 'api_clients.manage',
    params: z.object({ key_id: uuidParam }),
    handler: ({ db, params }) => revokeApiKey(db, params.key_id),
  },
})

export const loader = route.loader
export const action = route.action
