import { diagnoseDataset } from '#app/features/analytics/analytics.server.ts'
import { diagnosticBody } from '#app/features/analytics/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Correlations (Pearson, Spearman) of factors with a target, BH-adjusted p-values, Shapley shares of R² and impacts',
    tags: ['Analytics service'],
    permission: 'analytics.read',
    body: diagnosticBody,
    handler: ({ db, caller, body }) => diagnoseDataset(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
