/*
  Operations analytics: the database as strict as the API where PostgREST reaches it (issue 16.6).

  On Supabase `public` is exposed, so a signed-in user can PATCH and DELETE these tables directly with their JWT.
  20250301000000_ops_analytics generated their 28 policies in a DO loop (none could be found by reading) and let
  ingest.write (which operators hold) update and delete every row, including orders' history and decided approval
  items, while reviewer_id / reviewer_name were set by application code, so a direct PATCH could forge a review.
  Here, written out table by table:
  - one policy per command, named in English; no DELETE policy at all (nothing in the API deletes these rows;
    deletion is a service_role or tenant-removal operation);
  - column-level grants: `authenticated` may INSERT and UPDATE only the columns the API writes. Never: id,
    tenant_id (inserted by default, from the token), external_id after insert, an order's or a session's time
    (created_at, started_at: history), updated_at (a trigger stamps it), and the review columns reviewer_id,
    reviewer_name, reviewed_at (a trigger stamps them). TRUNCATE, REFERENCES and TRIGGER (granted by Supabase's
    default privileges, and TRUNCATE ignores RLS) are revoked;
  - approval queue items: a new draft is pending (status, edited_reply, review_notes cannot be inserted); only a
    pending draft can be updated; a decision (status, edited_reply, review_notes) needs approvals.decide and changing
    the draft itself (draft_reply, priority, confidence, agent type, links) needs ingest.write; the trigger stamps
    reviewer_id (the caller's auth.uid() when the caller is a user), reviewer_name and reviewed_at, and marks the agent
    query behind the draft approved / human-edited (reviewers need no UPDATE on agent_queries); a decided row never
    changes again (except its links set to null when what they point at is deleted).
*/

-- ---------------------------------------------------------------- the generated policies, dropped
drop policy "Members with analytics.read can read their tenant's customers" on public.customers;
drop policy "Members with ingest.write can add their tenant's customers" on public.customers;
drop policy "Members with ingest.write can change their tenant's customers" on public.customers;
drop policy "Members with ingest.write can delete their tenant's customers" on public.customers;
drop policy "Members with analytics.read can read their tenant's orders" on public.orders;
drop policy "Members with ingest.write can add their tenant's orders" on public.orders;
drop policy "Members with ingest.write can change their tenant's orders" on public.orders;
drop policy "Members with ingest.write can delete their tenant's orders" on public.orders;
drop policy "Members with analytics.read can read their tenant's storefront sessions" on public.storefront_sessions;
drop policy "Members with ingest.write can add their tenant's storefront sessions" on public.storefront_sessions;
drop policy "Members with ingest.write can change their tenant's storefront sessions" on public.storefront_sessions;
drop policy "Members with ingest.write can delete their tenant's storefront sessions" on public.storefront_sessions;
drop policy "Members with approvals.read can read their tenant's conversations" on public.conversations;
drop policy "Members with ingest.write can add their tenant's conversations" on public.conversations;
drop policy "Members with ingest.write can change their tenant's conversations" on public.conversations;
drop policy "Members with ingest.write can delete their tenant's conversations" on public.conversations;
drop policy "Members with analytics.read can read their tenant's agent queries" on public.agent_queries;
drop policy "Members with ingest.write can add their tenant's agent queries" on public.agent_queries;
drop policy "Members with ingest.write can change their tenant's agent queries" on public.agent_queries;
drop policy "Members with ingest.write can delete their tenant's agent queries" on public.agent_queries;
drop policy "Reviewers with approvals.decide can mark their tenant's agent queries" on public.agent_queries;
drop policy "Members with approvals.read can read their tenant's approval queue items" on public.approval_queue_items;
drop policy "Members with ingest.write can add their tenant's approval queue items" on public.approval_queue_items;
drop policy "Members with ingest.write can change their tenant's approval queue items" on public.approval_queue_items;
drop policy "Members with ingest.write can delete their tenant's approval queue items" on public.approval_queue_items;
drop policy "Reviewers with approvals.decide can decide their tenant's queue items" on public.approval_queue_items;
drop policy "Members with analytics.read can read their tenant's training examples" on public.training_examples;
drop policy "Members with ingest.write can add their tenant's training examples" on public.training_examples;
drop policy "Members with ingest.write can change their tenant's training examples" on public.training_examples;
drop policy "Members with ingest.write can delete their tenant's training examples" on public.training_examples;

revoke all on public.customers, public.orders, public.storefront_sessions, public.conversations, public.agent_queries,
  public.approval_queue_items, public.training_examples from anon, authenticated;

-- ---------------------------------------------------------------- customers
-- Writers read too: an upsert reads the row it conflicts with, and ingest resolves references by external id.
create policy "Members with analytics.read or ingest.write can read their tenant's customers" on public.customers
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('analytics.read')) or (select app.has_permission('ingest.write'))));
create policy "Members with ingest.write can add customers to their tenant" on public.customers
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')));
create policy "Members with ingest.write can update their tenant's customers" on public.customers
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')))
  with check (tenant_id = (select app.tenant_id()));
grant select on public.customers to authenticated;
grant insert (external_id, email, first_name, last_name, phone, created_at) on public.customers to authenticated;
grant update (email, first_name, last_name, phone) on public.customers to authenticated;

-- ---------------------------------------------------------------- orders
create policy "Members with analytics.read or ingest.write can read their tenant's orders" on public.orders
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('analytics.read')) or (select app.has_permission('ingest.write'))));
create policy "Members with ingest.write can add orders to their tenant" on public.orders
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')));
-- An order's life (payment, fulfilment, refund, an edited total) changes; when it was placed does not.
create policy "Members with ingest.write can update their tenant's orders" on public.orders
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')))
  with check (tenant_id = (select app.tenant_id()));
grant select on public.orders to authenticated;
grant insert (external_id, customer_id, status, fulfillment_status, total_price, currency, created_at, fulfilled_at) on public.orders to authenticated;
grant update (customer_id, status, fulfillment_status, total_price, currency, fulfilled_at) on public.orders to authenticated;

-- ---------------------------------------------------------------- storefront sessions
create policy "Members with analytics.read or ingest.write can read their tenant's storefront sessions" on public.storefront_sessions
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('analytics.read')) or (select app.has_permission('ingest.write'))));
create policy "Members with ingest.write can add storefront sessions to their tenant" on public.storefront_sessions
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')));
create policy "Members with ingest.write can update their tenant's storefront sessions" on public.storefront_sessions
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')))
  with check (tenant_id = (select app.tenant_id()));
grant select on public.storefront_sessions to authenticated;
grant insert (external_id, customer_id, started_at, landing_page, converted) on public.storefront_sessions to authenticated;
grant update (customer_id, landing_page, converted) on public.storefront_sessions to authenticated;

-- ---------------------------------------------------------------- conversations
create policy "Members with approvals.read or ingest.write can read their tenant's conversations" on public.conversations
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('approvals.read')) or (select app.has_permission('ingest.write'))));
create policy "Members with ingest.write can add conversations to their tenant" on public.conversations
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')));
create policy "Members with ingest.write can update their tenant's conversations" on public.conversations
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')))
  with check (tenant_id = (select app.tenant_id()));
grant select on public.conversations to authenticated;
grant insert (external_id, customer_id, channel, subject, customer_message, created_at) on public.conversations to authenticated;
grant update (customer_id, channel, subject, customer_message) on public.conversations to authenticated;

-- ---------------------------------------------------------------- agent queries
create policy "Members with analytics.read or ingest.write can read their tenant's agent queries" on public.agent_queries
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('analytics.read')) or (select app.has_permission('ingest.write'))));
create policy "Members with ingest.write can add agent queries to their tenant" on public.agent_queries
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')));
-- The agent's own log, re-sent by ingest. A reviewer's decision marks its query through the queue's trigger instead.
create policy "Members with ingest.write can update their tenant's agent queries" on public.agent_queries
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')))
  with check (tenant_id = (select app.tenant_id()));
grant select on public.agent_queries to authenticated;
grant insert (external_id, conversation_id, agent_type, query_text, response_text, latency_ms, approved, human_edited,
  accuracy_score, helpfulness_score, tone_score, safe_to_send, created_at) on public.agent_queries to authenticated;
grant update (conversation_id, agent_type, query_text, response_text, latency_ms, approved, human_edited,
  accuracy_score, helpfulness_score, tone_score, safe_to_send) on public.agent_queries to authenticated;

-- ---------------------------------------------------------------- approval queue items
create policy "Members with approvals.read or ingest.write can read their tenant's queue items" on public.approval_queue_items
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('approvals.read')) or (select app.has_permission('ingest.write'))));
create policy "Members with ingest.write can add drafts to their tenant's queue" on public.approval_queue_items
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')));
-- Which columns each permission may change is the trigger's business (app.approval_item_rules).
create policy "Reviewers and ingest can update their tenant's pending drafts" on public.approval_queue_items
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and status = 'pending'
         and ((select app.has_permission('approvals.decide')) or (select app.has_permission('ingest.write'))))
  with check (tenant_id = (select app.tenant_id()));
grant select on public.approval_queue_items to authenticated;
grant insert (external_id, conversation_id, agent_query_id, agent_type, draft_reply, priority, confidence, created_at)
  on public.approval_queue_items to authenticated;
grant update (conversation_id, agent_query_id, agent_type, draft_reply, priority, confidence, status, edited_reply, review_notes)
  on public.approval_queue_items to authenticated;

/*
  Before an update of a queue item: a decided item is locked; a decision needs approvals.decide, a change of the
  draft needs ingest.write (checked for callers with a JWT; the owner's own maintenance has none); deciding stamps the
  reviewer and the time from the caller, whatever the statement said.
*/
create or replace function app.approval_item_rules() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_links constant text[] := array['conversation_id', 'agent_query_id', 'reviewer_id'];
  v_old jsonb := to_jsonb(old) - 'updated_at';
  v_new jsonb := to_jsonb(new) - 'updated_at';
  v_changed text[];
  v_claims jsonb := (select auth.jwt());
  v_uid uuid := (select auth.uid());
begin
  select coalesce(array_agg(k), '{}') into v_changed from jsonb_object_keys(v_new) k where v_new -> k is distinct from v_old -> k;
  if v_changed = '{}' then
    return new;
  end if;
  if old.status <> 'pending' then
    -- only what a deleted conversation, agent query or reviewer leaves behind: the link set to null
    if v_changed <@ v_links and not exists (select 1 from unnest(v_changed) k where v_new ->> k is not null) then
      return new;
    end if;
    raise exception 'approval item % was already %: a decided item cannot change', old.id, old.status using errcode = '42501';
  end if;

  if v_claims ->> 'role' is not null then
    if v_changed && array['status', 'edited_reply', 'review_notes'] and not (select app.has_permission('approvals.decide')) then
      raise exception 'permission approvals.decide required to decide a draft' using errcode = '42501';
    end if;
    if v_changed && array['conversation_id', 'agent_query_id', 'agent_type', 'draft_reply', 'priority', 'confidence']
       and not (select app.has_permission('ingest.write')) then
      raise exception 'permission ingest.write required to change a draft' using errcode = '42501';
    end if;
  end if;

  if new.status = 'pending' then
    if new.edited_reply is distinct from old.edited_reply or new.review_notes is distinct from old.review_notes then
      raise exception 'an edited reply or review notes come with a decision (status approved, rejected or edited)' using errcode = '22023';
    end if;
    new.reviewer_id := old.reviewer_id;
    new.reviewer_name := old.reviewer_name;
    new.reviewed_at := old.reviewed_at;
  else
    -- an API key or a service token acts for no user of auth.users: no reviewer id, the actor's name only
    new.reviewer_id := case when v_claims -> 'app_metadata' ? 'api_key_id' then null
                            else (select u.id from auth.users u where u.id = v_uid) end;
    new.reviewer_name := (select app.actor_name());
    new.reviewed_at := now();
  end if;
  return new;
end
$$;
create trigger approval_queue_items_review_rules before update on public.approval_queue_items
  for each row execute function app.approval_item_rules();

-- After a decision, the agent query behind the draft is marked: approved (approve, edit), human-edited (edit).
create or replace function app.mark_decided_agent_query() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update public.agent_queries q
     set approved = new.status in ('approved', 'edited'), human_edited = new.status = 'edited'
   where q.id = new.agent_query_id and q.tenant_id = new.tenant_id;
  return null;
end
$$;
create trigger approval_queue_items_mark_agent_query after update of status on public.approval_queue_items
  for each row when (old.status = 'pending' and new.status <> 'pending' and new.agent_query_id is not null)
  execute function app.mark_decided_agent_query();

revoke execute on function app.approval_item_rules(), app.mark_decided_agent_query() from public, anon, authenticated;

-- ---------------------------------------------------------------- training examples
create policy "Members with analytics.read or ingest.write can read their tenant's training examples" on public.training_examples
  for select to authenticated
  using (tenant_id = (select app.tenant_id()) and ((select app.has_permission('analytics.read')) or (select app.has_permission('ingest.write'))));
create policy "Members with ingest.write can add training examples to their tenant" on public.training_examples
  for insert to authenticated
  with check (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')));
create policy "Members with ingest.write can update their tenant's training examples" on public.training_examples
  for update to authenticated
  using (tenant_id = (select app.tenant_id()) and (select app.has_permission('ingest.write')))
  with check (tenant_id = (select app.tenant_id()));
grant select on public.training_examples to authenticated;
grant insert (external_id, conversation_id, queue_item_id, input_text, model_draft, safe_to_send, category, sentiment, tone,
  accuracy_score, helpfulness_score, tone_score, annotator, notes, model_confidence, response_time_ms, created_at)
  on public.training_examples to authenticated;
grant update (conversation_id, queue_item_id, input_text, model_draft, safe_to_send, category, sentiment, tone,
  accuracy_score, helpfulness_score, tone_score, annotator, notes, model_confidence, response_time_ms)
  on public.training_examples to authenticated;
