import { templateIdParams, templateInput } from '#app/features/templates/schemas.ts'
import { updateTemplate } from '#app/features/templates/templates.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  PUT: {
    summary: "Replace a template's name and schema",
    tags: ['Templates'],
    permission: 'templates.write',
    params: templateIdParams,
    body: templateInput,
    handler: ({ db, params, body }) => updateTemplate(db, params.template_id, body),
  },
})

export const loader = route.loader
export const action = route.action
