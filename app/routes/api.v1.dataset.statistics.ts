import { z } from 'zod'
import { getStatistics } from '#app/features/datasets/statistics.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: "A dataset's statistics and the status and progress of the job computing them",
    tags: ['Datasets'],
    permission: 'datasets.read',
    query: z.object({ dataset_id: intId }),
    handler: ({ db, query }) => getStatistics(db, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action
