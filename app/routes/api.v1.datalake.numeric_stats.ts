import { z } from 'zod'
import { numericStats, SCHEMAS, lakeName } from '#app/features/datalake/datalake.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'count, mean, std_dev, min, max and median of a numeric column, computed by Postgres',
    tags: ['Datalake'],
    permission: 'datalake.read',
    query: z.object({
      schema_name: z.enum(SCHEMAS, 'must be bronze, silver or gold'),
      table_name: lakeName,
      column_name: lakeName,
    }),
    handler: ({ db, query }) => numericStats(db, query.schema_name, query.table_name, query.column_name),
  },
})

export const loader = route.loader
export const action = route.action
