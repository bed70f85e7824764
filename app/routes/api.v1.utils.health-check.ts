import { checkHealth } from '#app/features/health.server.ts'
import { api } from '#app/http/api-route.server.ts'

export const { loader, action } = api({
  GET: { summary: 'Health check: the service and its database answer', tags: ['Utils'], auth: 'none', handler: () => checkHealth() },
})
