/*
  NOTIFY hd_caller whenever something app.caller_context() or verifyApiKey() answers from changes: a user's roles,
  a role's permissions, a permission, a profile's tenant or active flag, a tenant, a session's revocation, an API key
  or client. The payload is the tenant whose callers are affected ('' when the row does not name one: every tenant).

  Each web process keeps the answers to those checks for a few seconds (app/features/auth/caller-cache.server.ts,
  decision 070) and drops a tenant's entries when this notification arrives (at commit, on every machine). Rows
  that do not change an answer do not notify: an API key's last_used_at, a profile's name, a new session (a login).
*/

create or replace function app.notify_caller_change() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r record := coalesce(new, old);
  v_tenant text;
begin
  if tg_table_name = 'tenants' then
    v_tenant := r.id::text;
  elsif tg_table_name = 'auth_sessions' then
    v_tenant := (select p.tenant_id::text from public.profiles p where p.user_id = r.user_id);
  else
    v_tenant := r.tenant_id::text;
  end if;
  perform pg_notify('hd_caller', coalesce(v_tenant, ''));
  return null;
end
$$;
revoke execute on function app.notify_caller_change() from public, anon, authenticated, service_role;

create trigger caller_change after insert or update or delete on public.user_roles
  for each row execute function app.notify_caller_change();
create trigger caller_change after insert or update or delete on public.role_permissions
  for each row execute function app.notify_caller_change();
create trigger caller_change after update or delete on public.permissions
  for each row execute function app.notify_caller_change();
create trigger caller_change after update of is_active, tenant_id, user_id or delete on public.profiles
  for each row execute function app.notify_caller_change();
create trigger caller_change after update or delete on public.tenants
  for each row execute function app.notify_caller_change();
create trigger caller_change after update of revoked_at or delete on app.auth_sessions
  for each row execute function app.notify_caller_change();
create trigger caller_change after update of revoked_at, expires_at, scopes, key_hash, tenant_id or delete on public.api_keys
  for each row execute function app.notify_caller_change();
create trigger caller_change after update of revoked_at, client_id, tenant_id or delete on public.api_clients
  for each row execute function app.notify_caller_change();
