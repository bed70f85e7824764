/*
  POST …/assets/{asset_id}/train (decision 063): the auto-deploy a training started, so its status can name it.
*/

alter table public.asset_trainings
  add column deployment_id text references public.asset_deployments (id) on delete set null;
create index asset_trainings_deployment_idx on public.asset_trainings (deployment_id);
