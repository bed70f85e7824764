import { deleteTemplate, getTemplate } from '#app/features/templates/templates.server.ts'
import { templateIdParams } from '#app/features/templates/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'A template with its full schema',
    tags: ['Templates'],
    permission: 'templates.read',
    params: templateIdParams,
    handler: ({ db, params }) => getTemplate(db, params.template_id),
  },
  DELETE: {
    summary: 'Delete a template (409 while datasets use it)',
    tags: ['Templates'],
    permission: 'templates.write',
    params: templateIdParams,
    handler: ({ db, params }) => deleteTemplate(db, params.template_id),
  },
})

export const loader = route.loader
export const action = route.action
