import { endpointNotFound } from '#app/http/api-route.server.ts'

/** Unknown API paths (under /api/v1/, /api/analytics/ and the rest of /api/) answer in JSON for every method. */
export const loader = endpointNotFound
export const action = endpointNotFound
