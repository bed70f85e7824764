/*
  Identity and access: tenants, user profiles, RBAC (roles, permissions, their links), API clients
  and API keys, and the private `app` schema of helpers every policy uses.
  Users themselves live in auth.users (Supabase Auth, or the compatibility schema).
*/

create schema if not exists app;
revoke all on schema app from public;
grant usage on schema app to anon, authenticated, service_role;

-- ---------------------------------------------------------------- helpers
create or replace function app.tenant_id() returns uuid
language sql stable security definer set search_path = ''
as $$
  select nullif((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id', '')::uuid
$$;

create or replace function app.user_id() returns uuid
language sql stable security definer set search_path = ''
as $$
  select auth.uid()
$$;

create or replace function app.set_updated_at() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_at = now();
  return new;
end
$$;

-- A row never moves to another tenant.
create or replace function app.protect_tenant_id() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if new.tenant_id is distinct from old.tenant_id then
    raise exception 'tenant_id cannot be changed' using errcode = '42501';
  end if;
  return new;
end
$$;

-- ---------------------------------------------------------------- tenants
create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(trim(name)) > 0),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]*$'),
  created_at timestamptz not null default now()
);
alter table public.tenants enable row level security;
create policy "Members can read their own tenant" on public.tenants
  for select to authenticated using (id = (select app.tenant_id()));

-- ---------------------------------------------------------------- profiles
create table public.profiles (
  id bigint generated always as identity primary key,
  user_id uuid not null unique references auth.users (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  username text not null unique check (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
  email text not null,
  first_name text,
  last_name text,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index profiles_tenant_id_idx on public.profiles (tenant_id);
create unique index profiles_email_lower_idx on public.profiles (lower(email));
create trigger profiles_updated_at before update on public.profiles for each row execute function app.set_updated_at();
create trigger profiles_tenant_fixed before update on public.profiles for each row execute function app.protect_tenant_id();
alter table public.profiles enable row level security;

-- ---------------------------------------------------------------- RBAC
create table public.permissions (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null check (name ~ '^[a-z][a-z0-9_.:-]{1,63}$'),
  description text,
  is_builtin boolean not null default false,
  created_at timestamptz not null default now(),
  unique (tenant_id, name)
);
create index permissions_tenant_id_idx on public.permissions (tenant_id);

create table public.roles (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null check (name ~ '^[a-z][a-z0-9_.:-]{1,63}$'),
  description text,
  is_builtin boolean not null default false,
  created_at timestamptz not null default now(),
  unique (tenant_id, name)
);
create index roles_tenant_id_idx on public.roles (tenant_id);

create table public.role_permissions (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  role_id bigint not null references public.roles (id) on delete cascade,
  permission_id bigint not null references public.permissions (id) on delete cascade,
  primary key (role_id, permission_id)
);
create index role_permissions_tenant_id_idx on public.role_permissions (tenant_id);
create index role_permissions_permission_id_idx on public.role_permissions (permission_id);

create table public.user_roles (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role_id bigint not null references public.roles (id) on delete cascade,
  primary key (user_id, role_id)
);
create index user_roles_tenant_id_idx on public.user_roles (tenant_id);
create index user_roles_role_id_idx on public.user_roles (role_id);

-- Links must stay inside one tenant: the role, the permission and the user all belong to tenant_id.
create or replace function app.check_rbac_link_tenant() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if not exists (select 1 from public.roles r where r.id = new.role_id and r.tenant_id = new.tenant_id) then
    raise exception 'role % is not in tenant %', new.role_id, new.tenant_id using errcode = '23503';
  end if;
  if tg_table_name = 'role_permissions' then
    if not exists (select 1 from public.permissions p where p.id = new.permission_id and p.tenant_id = new.tenant_id) then
      raise exception 'permission % is not in tenant %', new.permission_id, new.tenant_id using errcode = '23503';
    end if;
  else
    if not exists (select 1 from public.profiles p where p.user_id = new.user_id and p.tenant_id = new.tenant_id) then
      raise exception 'user % is not in tenant %', new.user_id, new.tenant_id using errcode = '23503';
    end if;
  end if;
  return new;
end
$$;
create trigger role_permissions_same_tenant before insert or update on public.role_permissions
  for each row execute function app.check_rbac_link_tenant();
create trigger user_roles_same_tenant before insert or update on public.user_roles
  for each row execute function app.check_rbac_link_tenant();

/*
  The caller's permissions. service_role has all of them; an API key has exactly its scopes;
  a user has the union of their roles' permissions in their tenant.
*/
create or replace function app.permissions() returns text[]
language sql stable security definer set search_path = ''
as $$
  select case
    when (select auth.role()) = 'service_role' then array(select p.name from public.permissions p where p.tenant_id = (select app.tenant_id()))
    when (select auth.jwt()) -> 'app_metadata' ? 'scopes' then array(
      select jsonb_array_elements_text((select auth.jwt()) -> 'app_metadata' -> 'scopes'))
    else array(
      select distinct p.name
      from public.user_roles ur
      join public.role_permissions rp on rp.role_id = ur.role_id
      join public.permissions p on p.id = rp.permission_id
      join public.profiles pr on pr.user_id = ur.user_id and pr.is_active
      where ur.user_id = (select auth.uid()) and ur.tenant_id = (select app.tenant_id()))
  end
$$;

create or replace function app.has_permission(permission text) returns boolean
language sql stable security definer set search_path = ''
as $$
  select (select auth.role()) = 'service_role' or permission = any (app.permissions())
$$;

revoke execute on all functions in schema app from public;
grant execute on function app.tenant_id(), app.user_id(), app.permissions(), app.has_permission(text)
  to anon, authenticated, service_role;

-- Built-in permissions and what each built-in role holds. Seeded into every tenant on creation.
create table app.builtin_permissions (
  name text primary key,
  description text not null
);
insert into app.builtin_permissions (name, description) values
  ('users.read', 'List and view users of the tenant'),
  ('users.write', 'Create users, reset other users'' passwords'),
  ('rbac.read', 'List roles and permissions'),
  ('rbac.write', 'Create roles and permissions, assign them'),
  ('api_clients.manage', 'Register API clients, issue and revoke API keys'),
  ('templates.read', 'View data templates'),
  ('templates.write', 'Create, change and delete data templates'),
  ('datasets.read', 'View datasets, files and statistics'),
  ('datasets.write', 'Upload, change and delete datasets and files'),
  ('datalake.read', 'Browse the bronze/silver/gold datalake'),
  ('models.read', 'View training jobs and models'),
  ('models.write', 'Train, change and delete models'),
  ('inference.run', 'Run predictions'),
  ('analytics.read', 'Read dashboards and analytics'),
  ('analytics.write', 'Run analytics computations and streams'),
  ('analytics.export', 'Export training data'),
  ('approvals.read', 'View the approval queue'),
  ('approvals.decide', 'Approve, reject or edit drafted replies'),
  ('ingest.write', 'Send orders, customers and agent events'),
  ('assets.read', 'Browse analytics assets'),
  ('assets.write', 'Publish and change analytics assets'),
  ('assets.execute', 'Execute analytics assets'),
  ('jobs.manage', 'Cancel running jobs');

create table app.builtin_roles (
  name text not null,
  permission text not null references app.builtin_permissions (name),
  primary key (name, permission)
);
insert into app.builtin_roles (name, permission)
select 'admin', name from app.builtin_permissions;
insert into app.builtin_roles (name, permission)
select 'data_scientist', unnest(array['templates.read','templates.write','datasets.read','datasets.write','datalake.read',
  'models.read','models.write','inference.run','analytics.read','analytics.write','approvals.read',
  'assets.read','assets.write','assets.execute','jobs.manage','users.read']);
insert into app.builtin_roles (name, permission)
select 'operator', unnest(array['templates.read','datasets.read','datalake.read','models.read','inference.run',
  'analytics.read','approvals.read','approvals.decide','ingest.write','assets.read','assets.execute']);
insert into app.builtin_roles (name, permission)
select 'viewer', unnest(array['templates.read','datasets.read','datalake.read','models.read','analytics.read',
  'approvals.read','assets.read']);

create or replace function app.seed_tenant_rbac() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.permissions (tenant_id, name, description, is_builtin)
  select new.id, bp.name, bp.description, true from app.builtin_permissions bp;
  insert into public.roles (tenant_id, name, description, is_builtin)
  select distinct new.id, br.name, 'Built-in role', true from app.builtin_roles br;
  insert into public.role_permissions (tenant_id, role_id, permission_id)
  select new.id, r.id, p.id
  from app.builtin_roles br
  join public.roles r on r.tenant_id = new.id and r.name = br.name
  join public.permissions p on p.tenant_id = new.id and p.name = br.permission;
  return new;
end
$$;
create trigger tenants_seed_rbac after insert on public.tenants
  for each row execute function app.seed_tenant_rbac();

-- ---------------------------------------------------------------- policies
alter table public.permissions enable row level security;
alter table public.roles enable row level security;
alter table public.role_permissions enable row level security;
alter table public.user_roles enable row level security;

create policy "Members with users.read can read their tenant's profiles" on public.profiles
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('users.read')) or user_id = (select auth.uid())));
create policy "Admins can add profiles to their tenant" on public.profiles
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('users.write')));
create policy "Admins can change their tenant's profiles" on public.profiles
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('users.write')))
  with check (tenant_id = (select app.tenant_id()));

create policy "Members with rbac.read can read their tenant's permissions" on public.permissions
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.read')));
create policy "Admins can create permissions in their tenant" on public.permissions
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.write')));
create policy "Admins can delete custom permissions in their tenant" on public.permissions
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and not is_builtin and (select app.has_permission('rbac.write')));

create policy "Members with rbac.read can read their tenant's roles" on public.roles
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.read')));
create policy "Admins can create roles in their tenant" on public.roles
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.write')));
create policy "Admins can delete custom roles in their tenant" on public.roles
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and not is_builtin and (select app.has_permission('rbac.write')));

create policy "Members with rbac.read can read their tenant's role permissions" on public.role_permissions
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.read')));
create policy "Admins can grant permissions to roles" on public.role_permissions
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.write')));
create policy "Admins can revoke permissions from roles" on public.role_permissions
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.write')));

create policy "Members can read their own roles, admins all of the tenant's" on public.user_roles
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and (user_id = (select auth.uid()) or (select app.has_permission('rbac.read'))));
create policy "Admins can assign roles to users" on public.user_roles
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.write')));
create policy "Admins can remove roles from users" on public.user_roles
  for delete to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('rbac.write')));

grant select, insert, update, delete on public.tenants, public.profiles, public.permissions, public.roles,
  public.role_permissions, public.user_roles to authenticated, service_role;

-- ---------------------------------------------------------------- API clients and keys
create table public.api_clients (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null check (length(trim(name)) between 1 and 100),
  client_id text not null unique,
  secret_hash text not null,
  allowed_scopes text[] not null default '{}',
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index api_clients_tenant_id_idx on public.api_clients (tenant_id);
create trigger api_clients_tenant_fixed before update on public.api_clients for each row execute function app.protect_tenant_id();

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  api_client_id uuid not null references public.api_clients (id) on delete cascade,
  prefix text not null,
  key_hash text not null unique,
  scopes text[] not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_at timestamptz not null default now()
);
create index api_keys_tenant_id_idx on public.api_keys (tenant_id);
create index api_keys_api_client_id_idx on public.api_keys (api_client_id);
create trigger api_keys_tenant_fixed before update on public.api_keys for each row execute function app.protect_tenant_id();

alter table public.api_clients enable row level security;
alter table public.api_keys enable row level security;
create policy "Admins can read their tenant's API clients" on public.api_clients
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('api_clients.manage')));
create policy "Admins can register API clients" on public.api_clients
  for insert to authenticated with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('api_clients.manage')));
create policy "Admins can revoke API clients" on public.api_clients
  for update to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('api_clients.manage')));
create policy "Admins can read their tenant's API keys" on public.api_keys
  for select to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('api_clients.manage')));
create policy "Admins can revoke API keys" on public.api_keys
  for update to authenticated using (tenant_id = (select app.tenant_id()) and (select app.has_permission('api_clients.manage')));
grant select, insert, update on public.api_clients, public.api_keys to authenticated, service_role;

-- ---------------------------------------------------------------- built-in auth provider sessions
-- Used only by the built-in provider (Supabase Auth keeps its own). Never exposed to API roles.
create table app.auth_sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  user_agent text
);
create index auth_sessions_user_id_idx on app.auth_sessions (user_id);

create table app.refresh_tokens (
  id bigint generated always as identity primary key,
  session_id uuid not null references app.auth_sessions (id) on delete cascade,
  token_hash text not null unique,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_session_id_idx on app.refresh_tokens (session_id);

-- ---------------------------------------------------------------- identities (built-in provider)
/*
  Creating an identity in auth.users on behalf of a caller: an admin (users.write) may only create users
  in their own tenant; the server itself (no API role) and service_role may create any.
*/
create or replace function app.create_identity(p_email text, p_password_hash text, p_app_meta jsonb, p_user_meta jsonb)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  new_id uuid;
begin
  if (select auth.role()) = 'anon' then
    raise exception 'not allowed' using errcode = '42501';
  elsif (select auth.role()) = 'authenticated' then
    if not (select app.has_permission('users.write')) then
      raise exception 'creating users needs the users.write permission' using errcode = '42501';
    end if;
    if (p_app_meta ->> 'tenant_id')::uuid is distinct from (select app.tenant_id()) then
      raise exception 'users can only be created in your own tenant' using errcode = '42501';
    end if;
  end if;
  insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
  values (gen_random_uuid(), 'authenticated', 'authenticated', lower(p_email), p_password_hash, now(), p_app_meta, p_user_meta)
  returning id into new_id;
  return new_id;
end
$$;

/* A user may change their own password; an admin (users.write) those of users in their tenant. */
create or replace function app.set_password_hash(p_user_id uuid, p_password_hash text)
returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if (select auth.role()) = 'anon' then
    raise exception 'not allowed' using errcode = '42501';
  -- "Your own password" holds only for a user's own session: an API key acts for its creator but is not them.
  elsif (select auth.role()) in ('authenticated', 'service_role')
        and (p_user_id is distinct from (select auth.uid()) or (select auth.jwt()) -> 'app_metadata' ? 'api_key_id') then
    if not (select app.has_permission('users.write')) or not exists (
      select 1 from public.profiles p where p.user_id = p_user_id and p.tenant_id = (select app.tenant_id())) then
      raise exception 'resetting another user''s password needs users.write in their tenant' using errcode = '42501';
    end if;
  end if;
  update auth.users set encrypted_password = p_password_hash, updated_at = now() where id = p_user_id;
  if not found then
    raise exception 'user not found' using errcode = 'P0002';
  end if;
  -- A new password ends every other session of that user (the caller's own session, if it is theirs, stays).
  update app.auth_sessions set revoked_at = now()
   where user_id = p_user_id and revoked_at is null
     and id is distinct from nullif((select auth.jwt()) ->> 'session_id', '')::uuid;
end
$$;

revoke execute on function app.create_identity(text, text, jsonb, jsonb), app.set_password_hash(uuid, text) from public;
grant execute on function app.create_identity(text, text, jsonb, jsonb), app.set_password_hash(uuid, text)
  to authenticated, service_role;

/*
  Everything the server checks about a verified token, in one statement (one round trip per request): the
  caller's permissions, whether their profile is active in the token's tenant, whether the tenant exists and,
  for built-in sessions, whether the session is still open. The claims are set only for this statement.
  Server-only: no API role may call it.
*/
create or replace function app.caller_context(p_claims jsonb, p_session_id uuid)
returns table (permissions text[], active boolean, tenant_ok boolean, session_ok boolean)
language plpgsql security definer set search_path = ''
as $$
declare
  v_tenant uuid := nullif(p_claims -> 'app_metadata' ->> 'tenant_id', '')::uuid;
  v_user uuid := case when p_claims ->> 'role' = 'service_role' then null else nullif(p_claims ->> 'sub', '')::uuid end;
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  return query select
    app.permissions(),
    (select p.is_active from public.profiles p where p.user_id = v_user and p.tenant_id = v_tenant),
    exists (select 1 from public.tenants t where t.id = v_tenant),
    p_session_id is null or exists (select 1 from app.auth_sessions s where s.id = p_session_id and s.revoked_at is null);
  perform set_config('request.jwt.claims', '', true);
end
$$;
revoke execute on function app.caller_context(jsonb, uuid) from public, anon, authenticated, service_role;
