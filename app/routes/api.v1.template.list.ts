import { listTemplates } from '#app/features/templates/templates.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List your tenant's templates",
    tags: ['Templates'],
    permission: 'templates.read',
    handler: ({ db }) => listTemplates(db),
  },
})

export const loader = route.loader
export const action = route.action
