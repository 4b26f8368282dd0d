-- pgbench script of CreateProject: the SQL the service ran for one call, captured from
-- Postgres' statement log by bench/pgbench/capture.py (bench/run). Do not edit:
-- bench/run --update-sql rewrites it when the service's SQL changes.
-- Run with -M prepared and the -D values of CreateProject.vars.json.
-- pgbench mode: prepared
\set rid random(1, 1000000000000000)
\set cid random(1, :customer_id_max)
BEGIN;
SELECT set_config('transaction_read_only', 'on', true), set_config('statement_timeout', :v1, true);
SELECT c.id, c.code, c.name, c.name_kana, c.kind, c.postal_code, c.prefecture, c.address_line1, c.address_line2, c.phone, c.email, c.corporate_number, c.invoice_registration_number, c.closing_day, c.payment_month_offset, c.payment_day, c.lifecycle, c.is_customer, c.is_partner, c.commission_rate_bp, c.partner_notification_email, c.partner_report_contact_name, c.partner_report_contact_email, c.memo, (extract(epoch FROM c.convert_time) * 1000000)::bigint AS convert_us, c.version, (extract(epoch FROM c.create_time) * 1000000)::bigint AS create_us, c.created_by, (extract(epoch FROM c.update_time) * 1000000)::bigint AS update_us, c.updated_by FROM customer.customers c WHERE c.id = ANY(:v2::bigint[]) ORDER BY c.id;
COMMIT;
BEGIN;
SELECT set_config('statement_timeout', :v3, true);
INSERT INTO "project".idempotency_keys (method, request_id, request_hash) VALUES (:v4, :rid, :v5) ON CONFLICT (method, request_id) DO NOTHING;
SELECT nextval('project.project_number_seq') \gset
INSERT INTO project.projects (
  number, customer_id, name, category_id, quote_date, acceptance_date, order_status,
  progress_status, owner, department, memo, partner_id, referral_date, outcome,
  completion_date, amount, lost_date, referral_remarks, version, create_time, created_by,
  update_time, updated_by)
VALUES (:nextval, :cid, :v6, NULL, NULL::date, NULL::date, :v7, '', :v8, :v9, '', NULL, NULL::date, NULL,
  NULL::date, NULL, NULL::date, NULL, :v10, :v11::timestamptz, :v12, :v13::timestamptz, :v14)
RETURNING id;
INSERT INTO "project".audit_events (event_time, actor, actor_role, method, resource_type, resource_id, change_json, request_id) VALUES (:v15::timestamptz, :v16, :v17, :v18, :v19, :v20, :v21::jsonb, :rid);
UPDATE "project".idempotency_keys SET response = :v22, status_code = 0 WHERE method = :v23 AND request_id = :rid AND response IS NULL;
COMMIT;
