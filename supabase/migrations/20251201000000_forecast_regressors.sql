/*
  Forecast models with numeric regressors (decision 064): the chosen family of a single-family forecast model can
  now be ARIMAX (regression with ARIMA errors) or Regression + ETS (least squares on the regressors, ETS on the
  residuals). 'Airline SARIMA' (decision 046) was missing from the list too: a training whose every series chose the
  airline model failed at registration.
*/

alter table public.model_versions drop constraint model_versions_model_name_check;
alter table public.model_versions add constraint model_versions_model_name_check
  check (model_name in ('XGBoostClassifier', 'XGBoostRegressor', 'LogisticRegression', 'LinearRegression',
    'AutoForecast', 'SeasonalNaive', 'ETS', 'AutoARIMA', 'Airline SARIMA', 'ARIMAX', 'Regression + ETS'));
