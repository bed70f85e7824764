import { z } from 'zod'
import { templateInput } from '#app/features/templates/template-schema.ts'
import { updateTemplate } from '#app/features/templates/templates.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  PUT: {
    summary: "Replace a template's name and schema",
    tags: ['Templates'],
    permission: 'templates.write',
    params: z.object({ template_id: intId }),
    body: templateInput,
    handler: ({ db, params, body }) => updateTemplate(db, params.template_id, body),
  },
})

export const loader = route.loader
export const action = route.action
