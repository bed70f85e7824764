import { z } from 'zod'

/** Paging for every list: `skip` (offset) and `limit` (1–500, default 100). */
export const page = {
  skip: z.coerce.number().int('must be an integer').min(0, 'must be 0 or more').default(0),
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(500, 'must be at most 500').default(100),
}

export const uuidParam = z.uuid('must be a UUID')
export const intId = z.coerce.number('must be an integer id').int('must be an integer id').positive('must be a positive id').max(Number.MAX_SAFE_INTEGER)

/** Postgres text cannot hold NUL; refuse it at the edge with a message naming the field. */
export const withoutNul = (s: string) => !s.includes('\u0000')
