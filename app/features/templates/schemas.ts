import { z } from 'zod'
import { intId, withoutNul } from '#app/http/schemas.ts'
import { MAX_COLUMNS } from './template-schema.ts'

/** The templates area's inputs, shared by its routes and pages (validation) and the OpenAPI document. */

export const templateIdParams = z.object({ template_id: intId })

/** One column as a request sends it; the rules that need more than one field are in validateTemplateSchema. */
export const templateColumnInput = z.object({
  column_name: z.string('must be a string'),
  data_type: z.string('must be a string'),
  default_value: z.union([z.string(), z.number(), z.boolean()]).nullish(),
})
export type TemplateColumnInput = z.infer<typeof templateColumnInput>

/** POST /api/v1/template/, PUT /api/v1/template/update/{template_id} and the Templates page. */
export const templateInput = z.object({
  template_name: z.string('must be a string').trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(withoutNul, 'must not contain NUL characters'),
  template_schema: z.array(templateColumnInput).max(MAX_COLUMNS, `at most ${MAX_COLUMNS} columns`).optional().default([]),
})
export type TemplateInput = z.infer<typeof templateInput>
