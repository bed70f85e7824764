import { generateForecast } from '#app/features/ml/ml.server.ts'
import { forecastInput } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Forecast the next steps of a series from a trained Forecast model, with prediction intervals',
    description:
      "steps (1 … the model's maximum, stated in the error and in the model summary), frequency (must be the model's), unique_id (the series; needed when the model has several), optional dataset_id (forecast from that dataset's more recent history with the same fitted model), confidence (interval level, default 0.95), history (recent points to return too), regressors ({ \"<column>\": [v1, …, v_steps] }: the future values of the model's numeric regressors, one number per step; required when the series' model uses them — a missing column, wrong length or non-number is a 400 naming regressors.<column> or regressors.<column>.<i>; a model trained without regressors refuses the field; the response's regressors_used says whether they were applied).",
    tags: ['Inference'],
    permission: 'models.read',
    body: forecastInput,
    handler: ({ db, body }) => generateForecast(db, body),
  },
})

export const loader = route.loader
export const action = route.action
