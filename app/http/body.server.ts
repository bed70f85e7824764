import { ApiError } from './errors.server.ts'

/*
  Request bodies are counted while they arrive: a declared Content-Length past the limit is refused before a byte is
  read, and a body that never declared one (chunked) is cut off at the first byte past the limit. Nothing is read
  whole first and measured afterwards.
*/

/** JSON and form bodies (login, API calls): 2 MiB. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024

// The rest of the body is left unread (cancelling it would reset the socket before the 413 is out): the answer
// closes the connection instead.
export const tooLarge = (limit: number) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `Body larger than ${limit} bytes`, { limit }, { Connection: 'close' })

function refuseDeclared(request: Request, limit: number) {
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > limit) throw tooLarge(limit)
}

/** The whole body as bytes, read with a running count; past `limit` the stream is cancelled and a 413 thrown. */
export async function readBodyBytes(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  refuseDeclared(request, limit)
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      reader.releaseLock()
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

export async function readBodyText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  return new TextDecoder().decode(await readBodyBytes(request, limit))
}

/** A urlencoded or multipart form, read within the limit (the login form is reachable by anyone). */
export async function readFormData(request: Request, limit = MAX_BODY_BYTES): Promise<FormData> {
  const bytes = await readBodyBytes(request, limit)
  return new Response(bytes as BodyInit, { headers: { 'content-type': request.headers.get('content-type') ?? '' } }).formData()
}

/**
 * The same request with its body counted as the handler streams it (uploads read their own bodies): past `limit`
 * the stream errors with the 413 and the read in progress fails with it.
 */
export function limitBody(request: Request, limit: number): Request {
  refuseDeclared(request, limit)
  if (!request.body) return request
  let total = 0
  const counted = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.byteLength
        if (total > limit) controller.error(tooLarge(limit))
        else controller.enqueue(chunk)
      },
    }),
    { preventCancel: true },
  )
  return new Request(request.url, { method: request.method, headers: request.headers, body: counted, signal: request.signal, duplex: 'half' } as RequestInit)
}

const unreadable = (what: string) => new ApiError(400, 'VALIDATION_ERROR', `body: ${what}`, { fields: [{ field: 'body', message: what }] })

/** A route's declared body as a plain value for its zod schema: JSON by default, or a form (urlencoded/multipart). */
export async function readBody(request: Request, type: 'json' | 'form', limit = MAX_BODY_BYTES): Promise<unknown> {
  const contentType = request.headers.get('content-type') ?? ''
  const isForm = contentType.includes('application/x-www-form-urlencoded') || contentType.includes('multipart/form-data')
  if ((type === 'form' || isForm) && !contentType.includes('application/json')) {
    const form = await readFormData(request, limit).catch((e) => {
      throw e instanceof ApiError ? e : unreadable('could not read the form')
    })
    return Object.fromEntries(form)
  }
  const text = await readBodyText(request, limit)
  if (!text.trim()) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw unreadable('is not valid JSON')
  }
}
