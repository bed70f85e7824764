import { connectSource, listSources } from '#app/features/marketplace/marketplace.server.ts'
import { createSourceBody, listSourcesQuery } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "Your tenant's data sources (filters type, status, asset_id), without their credentials",
    tags: ['Marketplace'],
    permission: 'assets.read',
    query: listSourcesQuery,
    handler: ({ db, query }) => listSources(db, query),
  },
  POST: {
    summary: 'Connect a data source (postgres, mysql, datalake; bigquery and snowflake when their connector is installed); credentials are encrypted at rest',
    tags: ['Marketplace'],
    permission: 'assets.write',
    body: createSourceBody,
    status: 201,
    handler: ({ db, caller, body }) => connectSource(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
