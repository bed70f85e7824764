import { z } from 'zod'
import { SCHEMAS, tableMetadata, lakeName } from '#app/features/datalake/datalake.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A table's metadata: owner, created, last access, location, format, rows, size",
    tags: ['Datalake'],
    permission: 'datalake.read',
    query: z.object({ schema_name: z.enum(SCHEMAS, 'must be bronze, silver or gold'), table_name: lakeName }),
    handler: ({ db, query }) => tableMetadata(db, query.schema_name, query.table_name),
  },
})

export const loader = route.loader
export const action = route.action
