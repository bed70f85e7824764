import { createTemplate } from '#app/features/templates/templates.server.ts'
import { templateInput } from '#app/features/templates/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Create a template (column names, data types, default values)',
    tags: ['Templates'],
    permission: 'templates.write',
    status: 201,
    body: templateInput,
    handler: ({ db, caller, body }) => createTemplate(db, caller.tenantId, body),
  },
})

export const loader = route.loader
export const action = route.action
