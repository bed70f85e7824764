import { getDb } from '#app/db/index.server.ts'
import { checkHealth } from '#app/features/health.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: { summary: 'Health check: the service and its database answer', tags: ['Utils'], auth: 'none', handler: async ({ db }) => checkHealth(await getDb(), db) },
})

export const loader = route.loader
export const action = route.action
