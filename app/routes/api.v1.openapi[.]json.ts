import { buildOpenApi } from '#app/http/openapi.server.ts'
import { api } from '#app/http/api-route.server.ts'

export const { loader, action } = api({
  GET: { summary: 'This OpenAPI 3.1 document', tags: ['Utils'], auth: 'none', handler: () => buildOpenApi() },
})
