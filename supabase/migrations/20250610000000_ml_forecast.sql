/*
  Forecasting models (ML spec module 8 with problem_type Forecast, module 9.4 /inference/forecast).

  A forecast training is a training like the others: the same training_jobs row, one preprocess (the time column,
  target, series id, frequency and how gaps are filled) and model versions in the registry. What changes is only the
  set of values the checks allow:
  - training_jobs.problem_type: Forecast; training_jobs.algorithm: seasonal_naive, ets, arima (auto picks per series);
  - model_versions.algorithm Forecast, model_name the chosen family (AutoForecast when series chose differently),
    format forecast-json (every series' fitted model, history and forecast distribution; app/features/ml/forecast).
*/

alter table public.training_jobs drop constraint training_jobs_problem_type_check;
alter table public.training_jobs add constraint training_jobs_problem_type_check
  check (problem_type in ('Classification', 'Regression', 'Forecast'));

alter table public.training_jobs drop constraint training_jobs_algorithm_check;
alter table public.training_jobs add constraint training_jobs_algorithm_check
  check (algorithm in ('auto', 'xgboost', 'linear', 'seasonal_naive', 'ets', 'arima'));

alter table public.model_versions drop constraint model_versions_algorithm_check;
alter table public.model_versions add constraint model_versions_algorithm_check
  check (algorithm in ('XGBoost', 'Linear', 'Forecast'));

alter table public.model_versions drop constraint model_versions_model_name_check;
alter table public.model_versions add constraint model_versions_model_name_check
  check (model_name in ('XGBoostClassifier', 'XGBoostRegressor', 'LogisticRegression', 'LinearRegression',
    'AutoForecast', 'SeasonalNaive', 'ETS', 'AutoARIMA'));

alter table public.model_versions drop constraint model_versions_format_check;
alter table public.model_versions add constraint model_versions_format_check
  check (format in ('xgboost-binary', 'xgboost-json', 'linear-json', 'forecast-json'));
