import { z } from 'zod'
import { distinctCount, SCHEMAS, lakeName } from '#app/features/datalake/datalake.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The number of distinct values in a column',
    tags: ['Datalake'],
    permission: 'datalake.read',
    query: z.object({
      schema: z.enum(SCHEMAS, 'must be bronze, silver or gold'),
      table: lakeName,
      column: lakeName,
    }),
    handler: ({ db, query }) => distinctCount(db, query.schema, query.table, query.column),
  },
})

export const loader = route.loader
export const action = route.action
