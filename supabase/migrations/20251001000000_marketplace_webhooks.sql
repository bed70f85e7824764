/*
  Signed webhooks (app/features/marketplace/webhooks.server.ts): every attempt is signed afresh with its own timestamp,
  so a delivery keeps what signing needs.

  - webhook_deliveries.event_id: the event's id, sent in the body and the HotDash-Delivery header (the receiver's
    idempotency key: a retry carries the same id).
  - webhook_deliveries.secret: the signing secret, AES-256-GCM sealed by the server (bound to tenant and event id), in a
    column no API role may select: the table's select grant to authenticated becomes a grant of the other columns.
*/

alter table public.webhook_deliveries
  add column event_id text check (event_id ~ '^evt_[0-9a-z]{12,32}$'),
  add column secret text;
create unique index webhook_deliveries_event_id_idx on public.webhook_deliveries (event_id);

revoke select on public.webhook_deliveries from authenticated;
grant select (id, tenant_id, subject, event, url, body, status, attempts, last_status_code, last_error, next_attempt_at, delivered_at, created_at, event_id)
  on public.webhook_deliveries to authenticated;
