import { z } from 'zod'
import { deleteTemplate, getTemplate } from '#app/features/templates/templates.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const params = z.object({ template_id: intId })

const route = api({
  GET: {
    summary: 'A template with its full schema',
    tags: ['Templates'],
    permission: 'templates.read',
    params,
    handler: ({ db, params }) => getTemplate(db, params.template_id),
  },
  DELETE: {
    summary: 'Delete a template (409 while datasets use it)',
    tags: ['Templates'],
    permission: 'templates.write',
    params,
    handler: ({ db, params }) => deleteTemplate(db, params.template_id),
  },
})

export const loader = route.loader
export const action = route.action
