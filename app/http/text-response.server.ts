/*
  Responses whose body is a string, remembered so the server can write the string as it is instead of reading it
  back through the Response's web stream (app/http/api-fast-path.server.ts). On globalThis: the server entry and the
  React Router build each load their own copy of this module.
*/
const g = globalThis as { __hotdashTextResponses?: WeakMap<Response, string> }
const texts = (g.__hotdashTextResponses ??= new WeakMap())

/** A response whose body is `text` (null: none, as for HEAD). */
export function textResponse(text: string | null, status: number, headers: Headers) {
  const r = new Response(text, { status, headers })
  if (text !== null) texts.set(r, text)
  return r
}

/** The body of a response made by textResponse; undefined for any other (streams, files, null bodies). */
export const textOf = (response: Response) => texts.get(response)
