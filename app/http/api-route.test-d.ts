/**
 * Type-level test of `api()`: each method's handler gets `query`, `body` and `params` typed from that
 * method's own schemas. Checked by `npm run typecheck` (tsc includes every `*.ts`), never executed. If the
 * typing regressed to `any`, every `@ts-expect-error` below would be unused (TS2578) and every
 * `expectTypeOf(...).toEqualTypeOf<...>()` would fail, so typecheck fails.
 */
import { expectTypeOf } from 'vitest'
import { z } from 'zod'
import { api } from './api-route.server.ts'
import { intId, page } from './schemas.ts'

const params = z.object({ file_id: intId })

api({
  GET: {
    summary: 'query and params typed from their schemas',
    query: z.object({ fileId: z.string(), ...page }),
    params,
    handler: ({ query, params, body }) => {
      expectTypeOf(query).toEqualTypeOf<{ fileId: string; skip: number; limit: number }>()
      expectTypeOf(params).toEqualTypeOf<{ file_id: number }>()
      expectTypeOf(body).toEqualTypeOf<undefined>()
      // @ts-expect-error a typo in a query field is a type error
      void query.fileIdTypo
      // @ts-expect-error so is one in a path parameter
      void params.fileId
      return { id: params.file_id }
    },
  },
  POST: {
    summary: 'a sibling method has its own schemas, not GET’s',
    body: z.object({ name: z.string(), tags: z.array(z.string()).default([]) }),
    handler: async ({ body, query, params }) => {
      expectTypeOf(body).toEqualTypeOf<{ name: string; tags: string[] }>()
      expectTypeOf(query).toEqualTypeOf<undefined>()
      expectTypeOf(params).toEqualTypeOf<undefined>()
      // @ts-expect-error a typo in a body field is a type error
      void body.nmae
      return new Response(null, { status: 204 })
    },
  },
  DELETE: {
    summary: 'the same params schema shared by two methods',
    params,
    bodyType: 'form',
    body: z.object({ confirm: z.enum(['yes']) }),
    handler: ({ params, body }) => {
      expectTypeOf(params.file_id).toEqualTypeOf<number>()
      expectTypeOf(body.confirm).toEqualTypeOf<'yes'>()
    },
  },
})

api({
  PUT: {
    summary: 'a handler cannot claim a type its schema does not produce',
    query: z.object({ n: z.coerce.number() }),
    // @ts-expect-error query.n is a number (the schema's output), not a string
    handler: ({ query }: { query: { n: string } }) => query.n,
  },
})

api({
  // @ts-expect-error only HTTP methods are keys
  FETCH: { summary: 'not a method', handler: () => null },
})
