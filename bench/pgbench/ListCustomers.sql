-- pgbench script of ListCustomers: the SQL the service ran for one call, captured from
-- Postgres' statement log by bench/pgbench/capture.py (bench/run). Do not edit:
-- bench/run --update-sql rewrites it when the service's SQL changes.
-- Run with -M prepared and the -D values of ListCustomers.vars.json.
-- pgbench mode: prepared
BEGIN;
SELECT set_config('transaction_read_only', 'on', true), set_config('statement_timeout', :v1, true);
SELECT c.id, c.code, c.name, c.name_kana, c.kind, c.postal_code, c.prefecture, c.address_line1, c.address_line2, c.phone, c.email, c.corporate_number, c.invoice_registration_number, c.closing_day, c.payment_month_offset, c.payment_day, c.lifecycle, c.is_customer, c.is_partner, c.commission_rate_bp, c.partner_notification_email, c.partner_report_contact_name, c.partner_report_contact_email, c.memo, (extract(epoch FROM c.convert_time) * 1000000)::bigint AS convert_us, c.version, (extract(epoch FROM c.create_time) * 1000000)::bigint AS create_us, c.created_by, (extract(epoch FROM c.update_time) * 1000000)::bigint AS update_us, c.updated_by FROM customer.customers c
WHERE c.id > :v2
  AND (NULL::text IS NULL OR (NULL = 'partner' AND c.is_partner)
       OR (NULL = 'customer' AND c.is_customer))
  AND (cardinality(:v3::smallint[]) = 0 OR c.lifecycle = ANY(:v4::smallint[]))
  AND (''::text = '' OR c.prefecture = '')
  AND (NULL::timestamptz IS NULL OR c.update_time >= NULL::timestamptz)
  AND (''::text = '' OR strpos(c.search_key, '') > 0)
ORDER BY c.id
LIMIT :v5;
COMMIT;
