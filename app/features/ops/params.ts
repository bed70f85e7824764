import { z } from 'zod'

/*
  Query parameters of the HD endpoints. Out-of-range numbers clamp, as the spec's loaders do
  (`Math.min(parseInt(hours), 168)`); values that are not integers at all are a 400 naming the field.
*/
const clampedInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?\d{1,9}$/, 'must be an integer')
    .transform((s) => Math.min(max, Math.max(min, Number(s))))
    .optional()
    .transform((v) => v ?? fallback)

export const HOURS = { min: 1, max: 168, default: 24 }
export const DAYS = { min: 1, max: 30, default: 7 }

export const trendsQuery = z.object({ hours: clampedInt(HOURS.min, HOURS.max, HOURS.default) })
export const daysQuery = z.object({ days: clampedInt(DAYS.min, DAYS.max, DAYS.default) })
export const queueQuery = z.object({
  groupBy: z.enum(['hour', 'day'], 'must be hour or day').default('day'),
  days: clampedInt(DAYS.min, DAYS.max, DAYS.default),
})
export const agentType = z.string().trim().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be an agent type such as product_search')
export const accuracyQuery = z.object({
  days: clampedInt(DAYS.min, DAYS.max, DAYS.default),
  agent: agentType.optional(),
})
