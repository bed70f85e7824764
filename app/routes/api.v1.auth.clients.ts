import { listApiClients, registerApiClient } from '#app/features/auth/auth.server.ts'
import { registerClientInput } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List your tenant's API clients and their keys (never secrets)",
    tags: ['Auth'],
    permission: 'api_clients.manage',
    handler: async ({ db }) => ({ data: await listApiClients(db) }),
  },
  POST: {
    summary: 'Register an API client; the client_secret is shown once',
    tags: ['Auth'],
    permission: 'api_clients.manage',
    status: 201,
    body: registerClientInput,
    handler: ({ db, caller, body }) => registerApiClient(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
