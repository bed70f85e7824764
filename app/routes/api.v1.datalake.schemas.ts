import { listSchemas } from '#app/features/datalake/datalake.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The datalake schemas (bronze, silver, gold) with the number of your tables in each',
    tags: ['Datalake'],
    permission: 'datalake.read',
    handler: ({ db }) => listSchemas(db),
  },
})

export const loader = route.loader
export const action = route.action
