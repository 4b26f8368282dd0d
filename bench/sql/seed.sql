-- bench/run's data set, written straight into the services' schemas after their migrations
-- (run as the database owner with psql -v customers=.. partners=.. projects=.. plans=..
-- referrals=..). Realistic shapes, not random noise: ACTIVE customers in five prefectures,
-- the last `partners` customers are partner stores; cases spread over the customers with a
-- mix of order statuses, the first `plans` cases 受注済 with a recurring plan whose contract
-- year ended last month (so RunRenewals on the 1st renews every one), and `referrals` open
-- referred cases per partner (what OpenPeriod snapshots). Ids are explicit so the load
-- generator can draw them; the sequences are moved past them.
\set ON_ERROR_STOP on
BEGIN;

-- ---- customer ----
INSERT INTO customer.customers (
  id, code, name, name_kana, search_key, kind, postal_code, prefecture, address_line1, phone,
  email, closing_day, payment_month_offset, payment_day, lifecycle, is_customer, is_partner,
  commission_rate_bp, partner_notification_email, version, create_time, created_by,
  update_time, updated_by)
SELECT i, c.code, c.name, c.kana,
  lower(c.code) || E'\x1f' || c.name || E'\x1f' || c.kana || E'\x1f' || replace(c.phone, '-', ''),
  1, '100-0001', (ARRAY['東京都', '大阪府', '神奈川県', '愛知県', '福岡県'])[1 + i % 5],
  '千代田区千代田' || i, c.phone, 'info' || i || '@example.co.jp', 0, 1, 0, 2,
  NOT c.partner, c.partner, CASE WHEN c.partner THEN 1000 ELSE 0 END,
  CASE WHEN c.partner THEN 'report' || i || '@example.co.jp' ELSE '' END,
  1, now() - interval '400 days', 'seed', now() - interval '30 days', 'seed'
FROM generate_series(1, :customers) i
CROSS JOIN LATERAL (SELECT
  'C' || lpad(i::text, 6, '0') AS code,
  i > :customers - :partners AS partner,
  CASE WHEN i > :customers - :partners THEN '株式会社加盟工務店' ELSE '株式会社サンプル商事' END || i AS name,
  'カブシキガイシャサンプル' || i AS kana,
  '03-' || lpad((1000 + i % 9000)::text, 4, '0') || '-' || lpad((i % 10000)::text, 4, '0') AS phone) c;
SELECT setval('customer.customers_id_seq', :customers);
SELECT setval('customer.customer_code_seq', :customers);

-- ---- project ----
-- Cases 1..plans are 受注済 (they carry the recurring plans); the last partners*referrals
-- are open referrals, `referrals` per partner; the rest mix 受注予定 / 受注済 / 失注.
INSERT INTO project.projects (
  id, number, customer_id, name, quote_date, acceptance_date, order_status, progress_status,
  owner, department, memo, partner_id, referral_date, outcome, referral_remarks, version,
  create_time, created_by, update_time, updated_by)
SELECT i, lpad(i::text, 7, '0'), 1 + (i * 7919) % (:customers - :partners),
  '案件' || i || ' 保守契約', date '2024-01-01' + (i % 500), NULL,
  CASE WHEN i <= :plans THEN 2 WHEN r.referred THEN 1 ELSE 1 + i % 3 END,
  (ARRAY['未着手', '進行中', '保留', '完了'])[1 + i % 4],
  'staff' || (i % 20), '営業' || (1 + i % 4) || '部', '',
  CASE WHEN r.referred THEN (:customers - :partners) + 1 + (:projects - i) / :referrals END,
  CASE WHEN r.referred THEN date '2025-01-01' + (i % 150) END,
  CASE WHEN r.referred THEN 1 END,
  CASE WHEN r.referred THEN '' END,
  1, now() - interval '300 days', 'seed', now() - interval '10 days', 'seed'
FROM generate_series(1, :projects) i
CROSS JOIN LATERAL (SELECT i > :projects - :partners * :referrals AS referred) r;
SELECT setval('project.projects_id_seq', :projects);
-- New case numbers start at 7 digits far above the seeded ones (see bench/pgbench/README).
SELECT setval('project.project_number_seq', 5000000);

-- ---- billing ----
-- Plans of cases 1..plans: half monthly with a 12-month renewal unit, 3/10 yearly split, 2/10
-- yearly; contract year 2024-07 .. 2025-06, auto-renew; each with its year's entries.
INSERT INTO billing.plans (
  project_id, customer_id, timing, tax_category, recurring_interval, split_revenue, amount,
  start_month, end_month, auto_renew, renewal_unit_months, version, create_time, created_by,
  update_time, updated_by)
SELECT p.id, p.customer_id, 3, 1,
  CASE WHEN p.id % 10 < 5 THEN 1 ELSE 2 END,
  CASE WHEN p.id % 10 < 5 THEN false ELSE p.id % 10 < 8 END,
  CASE WHEN p.id % 10 < 8 THEN 55000 ELSE 660000 END,
  date '2024-07-01', date '2025-06-01', true, 12,
  1, now() - interval '300 days', 'seed', now() - interval '300 days', 'seed'
FROM project.projects p WHERE p.id <= :plans;

INSERT INTO billing.entries (
  project_id, customer_id, billing_date, revenue_date, amount, tax, tax_category, status,
  period, description, version, kind)
SELECT pl.project_id, pl.customer_id,
  CASE WHEN pl.recurring_interval = 1 THEN (m + interval '1 month - 1 day')::date
       ELSE date '2024-07-31' END,
  (m + interval '1 month - 1 day')::date,
  pl.amount, pl.amount / 10, 1, 2,
  CASE WHEN pl.recurring_interval = 1 THEN 'M' ELSE 'S' END || to_char(m, 'YYYY-MM'), '', 1, 1
FROM billing.plans pl
CROSS JOIN generate_series(date '2024-07-01', date '2025-06-01', interval '1 month') m
WHERE pl.recurring_interval = 1 OR pl.split_revenue;
INSERT INTO billing.entries (
  project_id, customer_id, billing_date, revenue_date, amount, tax, tax_category, status,
  period, description, version, kind)
SELECT pl.project_id, pl.customer_id, date '2024-07-31', date '2024-07-31', pl.amount,
  pl.amount / 10, 1, 2, 'Y2024-07', '', 1, 1
FROM billing.plans pl WHERE pl.recurring_interval = 2 AND NOT pl.split_revenue;

COMMIT;
ANALYZE;
