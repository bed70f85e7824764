import { updatePreprocess } from '#app/features/ml/ml.server.ts'
import { updateInput } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Point a training's model at another preprocess of your tenant; says what changed",
    tags: ['Train'],
    permission: 'models.write',
    body: updateInput,
    handler: ({ db, body }) => updatePreprocess(db, body),
  },
})

export const loader = route.loader
export const action = route.action
