-- pgbench script of GetProject: the SQL the service ran for one call, captured from
-- Postgres' statement log by bench/pgbench/capture.py (bench/run). Do not edit:
-- bench/run --update-sql rewrites it when the service's SQL changes.
-- Run with -M prepared and the -D values of GetProject.vars.json.
-- pgbench mode: prepared
\set id random(1, :id_max)
BEGIN;
SELECT set_config('transaction_read_only', 'on', true), set_config('statement_timeout', :v1, true);
SELECT p.id, p.number, p.customer_id, p.name, coalesce(p.category_id, 0) AS category_id, (p.quote_date - DATE '1970-01-01') AS quote_days, (p.acceptance_date - DATE '1970-01-01') AS acceptance_days, p.order_status, p.progress_status, p.owner, p.department, p.memo, p.partner_id, (p.referral_date - DATE '1970-01-01') AS referral_days, p.outcome, (p.completion_date - DATE '1970-01-01') AS completion_days, p.amount, (p.lost_date - DATE '1970-01-01') AS lost_days, p.referral_remarks, p.version, (extract(epoch FROM p.create_time) * 1000000)::bigint AS create_us, p.created_by, (extract(epoch FROM p.update_time) * 1000000)::bigint AS update_us, p.updated_by FROM project.projects p WHERE p.id = :id;
COMMIT;
