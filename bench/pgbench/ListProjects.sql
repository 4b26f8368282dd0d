-- pgbench script of ListProjects: the SQL the service ran for one call, captured from
-- Postgres' statement log by bench/pgbench/capture.py (bench/run). Do not edit:
-- bench/run --update-sql rewrites it when the service's SQL changes.
-- Run with -M prepared and the -D values of ListProjects.vars.json.
-- pgbench mode: prepared
BEGIN;
SELECT set_config('transaction_read_only', 'on', true), set_config('statement_timeout', :v1, true);
SELECT p.id, p.number, p.customer_id, p.name, coalesce(p.category_id, 0) AS category_id, (p.quote_date - DATE '1970-01-01') AS quote_days, (p.acceptance_date - DATE '1970-01-01') AS acceptance_days, p.order_status, p.progress_status, p.owner, p.department, p.memo, p.partner_id, (p.referral_date - DATE '1970-01-01') AS referral_days, p.outcome, (p.completion_date - DATE '1970-01-01') AS completion_days, p.amount, (p.lost_date - DATE '1970-01-01') AS lost_days, p.referral_remarks, p.version, (extract(epoch FROM p.create_time) * 1000000)::bigint AS create_us, p.created_by, (extract(epoch FROM p.update_time) * 1000000)::bigint AS update_us, p.updated_by FROM project.projects p WHERE (:v2::bigint = 0 OR p.customer_id = :v3) AND (cardinality(:v4::smallint[]) = 0 OR p.order_status = ANY(:v5::smallint[])) AND (''::text = '' OR p.owner = '') AND (''::text = '' OR p.department = '') AND (:v6::bigint = 0 OR p.partner_id = :v7) AND (cardinality(:v8::smallint[]) = 0 OR p.outcome = ANY(:v9::smallint[])) AND (NULL::date IS NULL OR p.quote_date >= NULL::date) AND (NULL::date IS NULL OR p.quote_date <= NULL::date) AND (NULL::date IS NULL OR p.acceptance_date >= NULL::date) AND (NULL::date IS NULL OR p.acceptance_date <= NULL::date)
  AND p.id > :v10
ORDER BY p.id
LIMIT :v11;
COMMIT;
