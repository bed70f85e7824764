import { uploadEndpoint } from '#app/features/datasets/datasets.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({ POST: uploadEndpoint })

export const loader = route.loader
export const action = route.action
