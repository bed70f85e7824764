import type { Route } from './+types/_app.datasets_.upload'

/**
 * The browser's upload endpoint (a resource route): the page posts the multipart form here with XMLHttpRequest to
 * show upload progress, and gets the same JSON as POST /api/v1/dataset/upload. Same feature function.
 */
export async function action({ request }: Route.ActionArgs) {
  const { requireCaller } = await import('#app/features/auth/session.server.ts')
  const { verifyCsrf } = await import('#app/features/auth/csrf.server.ts')
  const { getDb } = await import('#app/db/index.server.ts')
  const { uploadDataset } = await import('#app/features/datasets/upload.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const { errorBody, ApiError } = await import('#app/http/errors.server.ts')
  const { caller, headers } = await requireCaller(request, 'datasets.write')
  try {
    // The token must come as a header: reading a form field would buffer the whole upload.
    if (!request.headers.get('x-csrf-token')) throw new ApiError(403, 'FORBIDDEN', 'Missing or invalid CSRF token')
    await verifyCsrf(request, caller)
    const query = Object.fromEntries(new URL(request.url).searchParams)
    const { limitBody } = await import('#app/http/body.server.ts')
    const { MAX_UPLOAD_BODY_BYTES } = await import('#app/features/datasets/upload.server.ts')
    const result = await uploadDataset(await getDb(), caller, limitBody(request, MAX_UPLOAD_BODY_BYTES), query)
    return Response.json(result, { status: 201, headers })
  } catch (e) {
    const err = toApiError(e)
    return Response.json(errorBody(err, crypto.randomUUID()), { status: err.status, headers })
  }
}
