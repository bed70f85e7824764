import { buildOpenApi } from '#app/http/openapi.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: { summary: 'This OpenAPI 3.1 document', tags: ['Utils'], auth: 'none', handler: () => buildOpenApi() },
})

export const loader = route.loader
export const action = route.action
