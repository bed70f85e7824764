/**
 * The Analytics and Segments pages' forms as request bodies (then parsed by the same zod schemas as the API):
 * blank fields are left out, numbers stay numbers, repeated checkboxes become lists.
 */

const text = (f: FormData, k: string) => {
  const v = f.get(k)
  return typeof v === 'string' && v.trim() ? v.trim() : undefined
}
const number = (f: FormData, k: string) => {
  const v = text(f, k)
  return v === undefined ? undefined : Number(v)
}
const list = (f: FormData, k: string) => f.getAll(k).filter((v): v is string => typeof v === 'string' && !!v)
const dateRange = (f: FormData) => {
  const start = text(f, 'start')
  const end = text(f, 'end')
  return start || end ? { filters: { date_range: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } } : {}
}

export function diagnosticForm(f: FormData) {
  return { dataset_id: number(f, 'dataset_id'), target_metric: text(f, 'target_metric'), potential_factors: list(f, 'potential_factors'), ...dateRange(f) }
}

export function predictiveForm(f: FormData) {
  return {
    model_type: text(f, 'model_type'),
    training_data: { dataset_id: number(f, 'dataset_id'), target: text(f, 'target'), features: list(f, 'features'), ...dateRange(f) },
    prediction_config: { horizon: number(f, 'horizon'), interval: text(f, 'interval'), confidence_level: number(f, 'confidence_level'), history: number(f, 'history') ?? 60 },
  }
}

export function prescriptiveForm(f: FormData) {
  const budget = number(f, 'budget')
  const spend = list(f, 'budget_variables')
  return {
    dataset_id: number(f, 'dataset_id'),
    objective: `${text(f, 'sense') ?? 'maximize'}_${text(f, 'target') ?? ''}`,
    variables: list(f, 'variables'),
    response_curve: text(f, 'response_curve'),
    constraints: { ...(budget !== undefined ? { budget } : {}), ...(spend.length ? { budget_variables: spend } : {}), ...(list(f, 'integer').length ? { integer: list(f, 'integer') } : {}) },
    ...dateRange(f),
  }
}

export function clusterForm(f: FormData) {
  const k = text(f, 'n_clusters')
  return {
    dataset_id: number(f, 'dataset_id'),
    features: list(f, 'features'),
    n_clusters: k === undefined || k === 'auto' ? 'auto' : Number(k),
    n_init: number(f, 'n_init'),
    random_state: number(f, 'random_state'),
  }
}
