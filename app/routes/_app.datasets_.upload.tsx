import { uploadEndpoint } from '#app/features/datasets/datasets.server.ts'
import { api } from '#app/http/api-route.server.ts'

/**
 * The browser's upload endpoint (a resource route): the page posts the multipart form here with XMLHttpRequest to
 * show upload progress. It is POST /api/v1/dataset/upload's own definition, reached with the page's session (cookie,
 * refreshed as pages refresh it; the CSRF token in X-CSRF-Token): the same permission, rate limit, request log,
 * answers and errors. One path, one policy.
 */
const route = api({ POST: { ...uploadEndpoint, auth: 'session' } })

export const action = route.action
