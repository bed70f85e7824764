import { z } from 'zod'
import { listTables, SCHEMAS } from '#app/features/datalake/datalake.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "Your tenant's tables in a schema",
    tags: ['Datalake'],
    permission: 'datalake.read',
    query: z.object({ schema_name: z.enum(SCHEMAS, 'must be bronze, silver or gold') }),
    handler: ({ db, query }) => listTables(db, query.schema_name),
  },
})

export const loader = route.loader
export const action = route.action
