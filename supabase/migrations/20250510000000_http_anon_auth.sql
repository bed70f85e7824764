/*
  Unauthenticated requests run their SQL as `anon` (issue 16, item 5; docs/decisions/017-anon-for-public-routes.md).
  `anon` reads no table. It may call exactly these server-side steps of logging in, rotating a refresh token, logging
  out, exchanging API client credentials and the health check, each a security definer function in the private
  `app` schema (which PostgREST does not expose):

  - app.login_identity(login): the account a username or email names, with its password hash to verify in the server
  - app.open_session(user, user agent, refresh token hash, ttl): a new built-in session and its first refresh token
  - app.rotate_refresh_token(hash, new hash, ttl): one use of a refresh token (a reused one ends its session)
  - app.close_session(hash): logout by refresh token
  - app.api_client_credentials(client_id) / app.issue_api_key(...): the client-credentials exchange
  - app.health(): the number of applied migrations
*/

create or replace function app.login_identity(p_login text)
returns table (user_id uuid, email text, encrypted_password text, tenant_id uuid, username text, is_active boolean, roles text[])
language sql stable security definer set search_path = ''
as $$
  select u.id, u.email::text, u.encrypted_password::text, p.tenant_id, p.username, p.is_active,
         coalesce(array(select r.name from public.user_roles ur join public.roles r on r.id = ur.role_id
                        where ur.user_id = u.id order by r.name), '{}')
    from public.profiles p join auth.users u on u.id = p.user_id
   where p.username = p_login or lower(p.email) = lower(p_login)
   limit 1
$$;

create or replace function app.open_session(p_user_id uuid, p_user_agent text, p_refresh_hash text, p_ttl_seconds int)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_session uuid;
begin
  insert into app.auth_sessions (user_id, user_agent) values (p_user_id, left(p_user_agent, 300)) returning id into v_session;
  update auth.users set last_sign_in_at = now() where id = p_user_id;
  insert into app.refresh_tokens (session_id, token_hash, expires_at)
  values (v_session, p_refresh_hash, now() + make_interval(secs => p_ttl_seconds));
  return v_session;
end
$$;

/*
  outcome: 'ok' (the old token is spent, the new one stored; the row carries what the new access token needs),
  'invalid' (unknown, expired or revoked), 'reused' (already spent: it leaked, so its whole session ends now),
  'inactive' (the user was deactivated).
*/
create or replace function app.rotate_refresh_token(p_token_hash text, p_new_hash text, p_ttl_seconds int)
returns table (outcome text, session_id uuid, user_id uuid, email text, tenant_id uuid, username text, roles text[])
language plpgsql security definer set search_path = ''
as $$
declare
  t record;
begin
  select rt.id, rt.session_id, s.user_id, rt.used_at is not null as used, rt.expires_at < now() as expired, s.revoked_at is not null as revoked
    into t
    from app.refresh_tokens rt join app.auth_sessions s on s.id = rt.session_id
   where rt.token_hash = p_token_hash
     for update of rt;
  if not found or t.expired or t.revoked then
    return query select 'invalid'::text, null::uuid, null::uuid, null::text, null::uuid, null::text, null::text[];
    return;
  end if;
  if t.used then
    update app.auth_sessions set revoked_at = now() where id = t.session_id;
    return query select 'reused'::text, t.session_id, null::uuid, null::text, null::uuid, null::text, null::text[];
    return;
  end if;
  update app.refresh_tokens set used_at = now() where id = t.id;
  if not exists (select 1 from public.profiles p where p.user_id = t.user_id and p.is_active) then
    return query select 'inactive'::text, t.session_id, null::uuid, null::text, null::uuid, null::text, null::text[];
    return;
  end if;
  insert into app.refresh_tokens (session_id, token_hash, expires_at)
  values (t.session_id, p_new_hash, now() + make_interval(secs => p_ttl_seconds));
  return query
  select 'ok'::text, t.session_id, u.id, u.email::text, p.tenant_id, p.username,
         coalesce(array(select r.name from public.user_roles ur join public.roles r on r.id = ur.role_id
                        where ur.user_id = u.id order by r.name), '{}')
    from auth.users u join public.profiles p on p.user_id = u.id
   where u.id = t.user_id;
end
$$;

create or replace function app.close_session(p_token_hash text)
returns boolean
language sql security definer set search_path = ''
as $$
  with closed as (
    update app.auth_sessions s set revoked_at = now()
      from app.refresh_tokens t
     where t.session_id = s.id and t.token_hash = p_token_hash and s.revoked_at is null
    returning s.id
  )
  select exists (select 1 from closed)
$$;

create or replace function app.api_client_credentials(p_client_id text)
returns table (id uuid, tenant_id uuid, secret_hash text, allowed_scopes text[], revoked boolean)
language sql stable security definer set search_path = ''
as $$
  select c.id, c.tenant_id, c.secret_hash, c.allowed_scopes, c.revoked_at is not null
    from public.api_clients c where c.client_id = p_client_id
$$;

/* The scopes must be the client's own (the server checked the secret and narrowed the scopes already). */
create or replace function app.issue_api_key(p_api_client_id uuid, p_prefix text, p_key_hash text, p_scopes text[], p_days int)
returns table (id uuid, expires_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
declare
  c record;
begin
  select ac.tenant_id, ac.allowed_scopes, ac.revoked_at into c from public.api_clients ac where ac.id = p_api_client_id;
  if not found or c.revoked_at is not null or not (p_scopes <@ c.allowed_scopes) then
    raise exception 'not allowed' using errcode = '42501';
  end if;
  return query
  insert into public.api_keys (tenant_id, api_client_id, prefix, key_hash, scopes, expires_at)
  values (c.tenant_id, p_api_client_id, p_prefix, p_key_hash, p_scopes, now() + make_interval(days => p_days))
  returning api_keys.id, api_keys.expires_at;
end
$$;

create or replace function app.health()
returns int
language sql stable security definer set search_path = ''
as $$ select count(*)::int from supabase_migrations.schema_migrations $$;

revoke execute on function app.login_identity(text), app.open_session(uuid, text, text, int),
  app.rotate_refresh_token(text, text, int), app.close_session(text), app.api_client_credentials(text),
  app.issue_api_key(uuid, text, text, text[], int), app.health() from public;
grant execute on function app.login_identity(text), app.open_session(uuid, text, text, int),
  app.rotate_refresh_token(text, text, int), app.close_session(text), app.api_client_credentials(text),
  app.issue_api_key(uuid, text, text, text[], int), app.health() to anon, service_role;
