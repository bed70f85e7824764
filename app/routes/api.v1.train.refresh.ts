import { z } from 'zod'
import { getDb } from '#app/db/index.server.ts'
import { refreshTrainings } from '#app/features/ml/ml.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { page } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: "Reconcile the trainings with the job queue (a lost worker's job is retried once, then failed), then list them",
    tags: ['Train'],
    permission: 'models.read',
    // The reconciliation writes as the server: no caller transaction may hold the connection (PGlite has one).
    transaction: false,
    query: z.object(page),
    handler: async ({ db, caller, query }) => refreshTrainings(await getDb(), db, caller, query),
  },
})

export const loader = route.loader
export const action = route.action
