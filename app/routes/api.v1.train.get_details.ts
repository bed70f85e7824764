import { trainingDetails } from '#app/features/ml/ml.server.ts'
import { detailsInput } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "A dataset's schema and the attributes a column can take, with suggested roles",
    tags: ['Train'],
    permission: 'models.read',
    body: detailsInput,
    handler: ({ db, body }) => trainingDetails(db, body),
  },
})

export const loader = route.loader
export const action = route.action
