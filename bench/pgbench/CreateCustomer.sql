-- pgbench script of CreateCustomer: the SQL the service ran for one call, captured from
-- Postgres' statement log by bench/pgbench/capture.py (bench/run). Do not edit:
-- bench/run --update-sql rewrites it when the service's SQL changes.
-- Run with -M prepared and the -D values of CreateCustomer.vars.json.
-- pgbench mode: prepared
\set rid random(1, 1000000000000000)
BEGIN;
SELECT set_config('statement_timeout', :v1, true);
INSERT INTO "customer".idempotency_keys (method, request_id, request_hash) VALUES (:v2, :rid, :v3) ON CONFLICT (method, request_id) DO NOTHING;
SELECT nextval('customer.customer_code_seq') \gset
INSERT INTO customer.customers (
  code, name, name_kana, search_key, kind, postal_code, prefecture, address_line1,
  address_line2, phone, email, corporate_number, invoice_registration_number, closing_day,
  payment_month_offset, payment_day, lifecycle, is_customer, is_partner, commission_rate_bp,
  partner_notification_email, partner_report_contact_name, partner_report_contact_email, memo,
  convert_time, version, create_time, created_by, update_time, updated_by)
VALUES (:nextval, :v4, :v5, :v6, :v7, :v8, :v9, :v10, '', :v11, '', '', '', :v12, :v13, :v14, :v15, :v16, :v17,
  :v18, '', '', '', '', NULL::timestamptz, :v19, :v20::timestamptz, :v21, :v22::timestamptz,
  :v23)
ON CONFLICT (code) DO NOTHING
RETURNING id;
INSERT INTO "customer".audit_events (event_time, actor, actor_role, method, resource_type, resource_id, change_json, request_id) VALUES (:v24::timestamptz, :v25, :v26, :v27, :v28, :v29, :v30::jsonb, :rid);
UPDATE "customer".idempotency_keys SET response = :v31, status_code = 0 WHERE method = :v32 AND request_id = :rid AND response IS NULL;
COMMIT;
