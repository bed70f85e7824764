/**
 * The New model wizard's form as a POST /train/ body (then parsed by the same zod schema as the API): blank fields
 * are left out so the schema's defaults apply, numbers stay numbers, the column roles keep the dataset's order so an
 * error on `columns[i]` names row i of the form.
 */

export const HYPERPARAMETERS = [
  { name: 'n_estimators', label: 'Rounds (n_estimators)', step: '1', hint: 'boosting rounds before early stopping' },
  { name: 'max_depth', label: 'Max depth', step: '1', hint: 'depth of each tree' },
  { name: 'learning_rate', label: 'Learning rate', step: 'any', hint: 'shrinkage per round' },
  { name: 'subsample', label: 'Subsample', step: 'any', hint: 'share of rows per tree' },
  { name: 'colsample_bytree', label: 'Column sample per tree', step: 'any', hint: 'share of columns per tree' },
  { name: 'min_child_weight', label: 'Min child weight', step: 'any', hint: 'minimum hessian in a leaf' },
  { name: 'scale_pos_weight', label: 'Positive class weight', step: 'any', hint: 'for imbalanced binary targets' },
  { name: 'reg_lambda', label: 'L2 penalty (lambda)', step: 'any', hint: '' },
  { name: 'reg_alpha', label: 'L1 penalty (alpha)', step: 'any', hint: '' },
  { name: 'gamma', label: 'Min split loss (gamma)', step: 'any', hint: '' },
  { name: 'max_bin', label: 'Histogram bins', step: '1', hint: 'hist tree method' },
  { name: 'early_stopping_rounds', label: 'Early stopping rounds', step: '1', hint: 'on the validation split' },
  { name: 'C', label: 'Linear: C', step: 'any', hint: 'inverse L2 strength of the linear baseline' },
  { name: 'max_iter', label: 'Linear: max iterations', step: '1', hint: '' },
] as const

/** The `forecast` object's fields, sent as `forecast.<name>` inputs. */
export const FORECAST_SETTINGS = ['horizon', 'origins', 'season_length', 'selection'] as const

const text = (f: FormData, k: string) => {
  const v = f.get(k)
  return typeof v === 'string' && v.trim() ? v.trim() : undefined
}
/** A number, or the text itself when it is not one (so the schema names the field instead of dropping it). */
const number = (f: FormData, k: string): number | string | undefined => {
  const v = text(f, k)
  if (v === undefined) return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : v
}

export function trainForm(f: FormData) {
  const columns: { column_name: string; attribute_name: string }[] = []
  for (let i = 0; f.has(`columns.${i}.column_name`); i++) {
    columns.push({ column_name: String(f.get(`columns.${i}.column_name`)), attribute_name: text(f, `columns.${i}.attribute_name`) ?? 'Feature' })
  }
  const hyperparameters: Record<string, number | string> = {}
  for (const h of HYPERPARAMETERS) {
    const v = number(f, `hyperparameters.${h.name}`)
    if (v !== undefined) hyperparameters[h.name] = v
  }
  const body: Record<string, unknown> = {
    dataset_id: number(f, 'dataset_id'),
    predictor_name: text(f, 'predictor_name') ?? '',
    domain: text(f, 'domain') ?? '',
    problem_type: text(f, 'problem_type') ?? '',
    columns,
    algorithm: text(f, 'algorithm') ?? 'auto',
    // An unticked checkbox sends nothing: the hidden `shap_field` says the form had the box.
    shap_enabled: f.has('shap_field') ? f.get('shap_enabled') === 'on' || f.get('shap_enabled') === 'true' : true,
    hyperparameters,
  }
  for (const k of ['validation_split', 'cv_folds', 'seed'] as const) {
    const v = number(f, k)
    if (v !== undefined) body[k] = v
  }
  // Forecast settings: a blank frequency is inferred from the timestamps, blank settings take the frequency's defaults.
  const frequency = text(f, 'frequency')
  if (frequency !== undefined) body.frequency = frequency
  const forecast: Record<string, number | string> = {}
  for (const k of FORECAST_SETTINGS) {
    const v = k === 'selection' ? text(f, `forecast.${k}`) : number(f, `forecast.${k}`)
    if (v !== undefined) forecast[k] = v
  }
  if (Object.keys(forecast).length) body.forecast = forecast
  return body
}

/** Which form field shows an API error's field (`columns[3].attribute_name` → row 3's role select). */
export function formFieldOf(apiField: string): string {
  return apiField.replace(/^columns\[(\d+)\]/, 'columns.$1').replace(/^hyperparameters\[(\w+)\]/, 'hyperparameters.$1')
}
