import { z } from 'zod'
import { intId, withoutNul } from '#app/http/schemas.ts'

/* POST /api/v1/inference/forecast (ML spec §9.4): the spec's fields, and our confidence and history extensions. */

const integer = z.coerce.number('must be an integer').int('must be an integer')

export const forecastInput = z
  .object({
    train_id: intId,
    preprocess_id: intId.optional(),
    steps: integer.min(1, 'must be at least 1'),
    frequency: z.string('must be a string').trim().min(1, 'must not be empty').max(20),
    unique_id: z.coerce.string('must be a string').max(500).refine(withoutNul, 'must not contain NUL characters').optional(),
    dataset_id: intId.optional(),
    /** the prediction interval's level (default 0.95) */
    confidence: z.coerce.number('must be a number').gt(0.5, 'must be above 0.5').lt(1, 'must be below 1').optional().default(0.95),
    /**
     * the future values of the model's regressors, one array of `steps` numbers per column:
     * { "price": [v1, …, v_steps] } (needed when the series' model uses them; decision 064)
     */
    regressors: z
      .record(z.string().max(200), z.array(z.number('must be a number'), 'must be an array of numbers, one per step').max(5000))
      .optional()
      .describe('future values of the numeric regressors: { "<column>": [v1, …, v_steps] }, one number per step'),
    /** also return this many recent history points (for a chart) */
    history: integer.min(0, 'must be 0 or more').max(5000, 'must be at most 5000').optional().default(0),
  })
  .strict()
export type ForecastInput = z.output<typeof forecastInput>
