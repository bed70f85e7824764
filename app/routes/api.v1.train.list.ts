import { z } from 'zod'
import { listTrainings } from '#app/features/ml/ml.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { page } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: 'Every training of your tenant with its status, progress and chosen model, newest first',
    tags: ['Train'],
    permission: 'models.read',
    query: z.object(page),
    handler: ({ db, query }) => listTrainings(db, query),
  },
})

export const loader = route.loader
export const action = route.action
