-- The billing service's schema: plans per case, their entries (請求), invoices (請求書) with
-- their frozen lines and per-rate totals, the yearly invoice counters, renewal runs and the
-- queue of failed renewals, invoice-issue requests and the notification outbox. The runner
-- applies this with search_path = billing, after the common tables (idempotency_keys,
-- audit_events).
--
-- Codes (the API's enum numbers): timing 1 LUMP_SUM, 2 SPLIT, 3 RECURRING; interval
-- 1 MONTHLY, 2 YEARLY; tax_category 1 STANDARD, 2 REDUCED, 3 EXEMPT; entry status 1 UNBILLED,
-- 2 READY, 3 BILLED, 4 PAID, 5 UNCOLLECTIBLE; invoice status 1 ISSUED, 2 CANCELLED; rounding
-- 1 FLOOR, 2 HALF_UP, 3 CEILING. Months are stored as the date of their first day.
--
-- CHECK constraints state the invariants that are cheap to state in SQL, so that a bug in a
-- handler cannot store a row the rules forbid. Rows of another service (cases, customers)
-- are referenced by id only: no service reads another's tables.

CREATE TABLE plans (
  project_id bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  timing smallint NOT NULL,
  tax_category smallint NOT NULL,
  -- The recurring terms: all set for RECURRING, all NULL otherwise.
  recurring_interval smallint,
  split_revenue boolean,
  amount bigint,
  start_month date,
  end_month date,
  auto_renew boolean,
  renewal_unit_months smallint,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT plans_timing_check CHECK (timing BETWEEN 1 AND 3),
  CONSTRAINT plans_tax_category_check CHECK (tax_category BETWEEN 1 AND 3),
  CONSTRAINT plans_recurring_check CHECK (
    CASE WHEN timing = 3 THEN
      recurring_interval IS NOT NULL AND split_revenue IS NOT NULL AND amount IS NOT NULL
      AND start_month IS NOT NULL AND end_month IS NOT NULL AND auto_renew IS NOT NULL
      AND renewal_unit_months IS NOT NULL
    ELSE
      recurring_interval IS NULL AND split_revenue IS NULL AND amount IS NULL
      AND start_month IS NULL AND end_month IS NULL AND auto_renew IS NULL
      AND renewal_unit_months IS NULL
    END),
  CONSTRAINT plans_interval_check CHECK (recurring_interval BETWEEN 1 AND 2),
  CONSTRAINT plans_split_revenue_check CHECK (NOT split_revenue OR recurring_interval = 2),
  CONSTRAINT plans_amount_check CHECK (amount > 0),
  CONSTRAINT plans_months_check CHECK (
    extract(day FROM start_month) = 1 AND extract(day FROM end_month) = 1
    AND end_month >= start_month),
  CONSTRAINT plans_renewal_unit_check CHECK (
    renewal_unit_months BETWEEN 0 AND 12
    AND (NOT auto_renew OR renewal_unit_months = 12
         OR (recurring_interval = 1 AND renewal_unit_months >= 1))),
  CONSTRAINT plans_version_check CHECK (version >= 1)
);

-- RenewalCandidates: recurring, auto-renewing plans by end month.
CREATE INDEX plans_renewal ON plans (end_month, project_id) WHERE timing = 3 AND auto_renew;

-- Invoices come before entries, which reference them. Issued invoices are kept forever
-- (a cancellation is recorded on the row, never a deletion).
CREATE TABLE invoices (
  id bigserial PRIMARY KEY,
  number text NOT NULL,
  customer_id bigint NOT NULL,
  recipient_name text NOT NULL,
  issuer_name text NOT NULL,
  issuer_registration_number text NOT NULL,
  issue_date date NOT NULL,
  due_date date NOT NULL,
  subtotal bigint NOT NULL,
  tax bigint NOT NULL,
  total bigint NOT NULL,
  rounding smallint NOT NULL,
  status smallint NOT NULL,
  cancel_reason text NOT NULL DEFAULT '',
  cancel_time timestamptz,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT invoices_number_key UNIQUE (number),
  -- "<issue year>-<6+ digit sequence>".
  CONSTRAINT invoices_number_check CHECK (
    number ~ '^[0-9]{4}-[0-9]{6,}$'
    AND left(number, 4) = lpad(extract(year FROM issue_date)::text, 4, '0')),
  CONSTRAINT invoices_due_date_check CHECK (due_date >= issue_date),
  CONSTRAINT invoices_registration_number_check
    CHECK (issuer_registration_number ~ '^T[0-9]{13}$'),
  CONSTRAINT invoices_names_check CHECK (recipient_name <> '' AND issuer_name <> ''),
  CONSTRAINT invoices_total_check CHECK (total = subtotal + tax),
  CONSTRAINT invoices_rounding_check CHECK (rounding BETWEEN 1 AND 3),
  CONSTRAINT invoices_status_check CHECK (status BETWEEN 1 AND 2),
  -- Cancelled exactly when it has a cancellation time.
  CONSTRAINT invoices_cancel_check CHECK ((status = 2) = (cancel_time IS NOT NULL)),
  CONSTRAINT invoices_version_check CHECK (version >= 1)
);

CREATE INDEX invoices_customer ON invoices (customer_id, id);
CREATE INDEX invoices_issue_date ON invoices (issue_date, id);

CREATE TABLE entries (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES plans (project_id),
  customer_id bigint NOT NULL,
  billing_date date NOT NULL,
  revenue_date date NOT NULL,
  amount bigint NOT NULL,
  -- The estimate until invoiced, then the entry's share of the invoice's tax.
  tax bigint NOT NULL,
  tax_category smallint NOT NULL,
  status smallint NOT NULL,
  -- Generated entries' period ("M2019-07", "Y2019-06", "S2019-07"); NULL for lump-sum and
  -- split entries, which the unique key below then leaves alone.
  period text,
  description text NOT NULL DEFAULT '',
  invoice_id bigint REFERENCES invoices (id),
  version bigint NOT NULL,
  -- What makes generation and renewal exactly-once: a second or concurrent run inserts a
  -- period that exists with ON CONFLICT DO NOTHING.
  CONSTRAINT entries_project_period_key UNIQUE (project_id, period),
  CONSTRAINT entries_amount_check CHECK (amount > 0),
  CONSTRAINT entries_tax_category_check CHECK (tax_category BETWEEN 1 AND 3),
  CONSTRAINT entries_exempt_tax_check CHECK (tax_category <> 3 OR tax = 0),
  CONSTRAINT entries_status_check CHECK (status BETWEEN 1 AND 5),
  -- BILLED, PAID and UNCOLLECTIBLE entries are on an invoice; UNBILLED and READY ones not.
  CONSTRAINT entries_invoice_check CHECK ((status >= 3) = (invoice_id IS NOT NULL)),
  CONSTRAINT entries_period_check CHECK (period IS NULL OR period ~ '^[MYS][0-9]{4}-[0-9]{2}$'),
  CONSTRAINT entries_version_check CHECK (version >= 1)
);

-- Entry lists page by (billing_date, id); each filter's index ends in those.
CREATE INDEX entries_billing_date ON entries (billing_date, id);
CREATE INDEX entries_project ON entries (project_id, billing_date, id);
CREATE INDEX entries_customer_status ON entries (customer_id, status, billing_date, id);
CREATE INDEX entries_revenue_date ON entries (revenue_date);
CREATE INDEX entries_invoice ON entries (invoice_id) WHERE invoice_id IS NOT NULL;

-- An invoice's lines as issued: a frozen copy. entry_id has no foreign key on purpose: after
-- a cancellation the entry is READY again and may later be set back to UNBILLED and removed
-- (or replaced by a re-plan), while the cancelled invoice must stay readable as it was.
CREATE TABLE invoice_lines (
  invoice_id bigint NOT NULL REFERENCES invoices (id),
  position integer NOT NULL,
  entry_id bigint NOT NULL,
  project_id bigint NOT NULL,  -- the entry's case, kept for the case's audit trail
  description text NOT NULL,
  amount bigint NOT NULL,
  tax_category smallint NOT NULL,
  allocated_tax bigint NOT NULL,
  revenue_date date NOT NULL,
  PRIMARY KEY (invoice_id, position),
  CONSTRAINT invoice_lines_position_check CHECK (position >= 1),
  CONSTRAINT invoice_lines_tax_category_check CHECK (tax_category BETWEEN 1 AND 3)
);

-- Which invoices billed a case's entries (the case's audit trail lists them).
CREATE INDEX invoice_lines_project ON invoice_lines (project_id, invoice_id);

-- Tax per rate, computed once per rate on the sum of the rate's lines (DESIGN.md).
CREATE TABLE invoice_rate_totals (
  invoice_id bigint NOT NULL REFERENCES invoices (id),
  tax_category smallint NOT NULL,
  taxable_amount bigint NOT NULL,
  tax bigint NOT NULL,
  PRIMARY KEY (invoice_id, tax_category),
  CONSTRAINT invoice_rate_totals_tax_category_check CHECK (tax_category BETWEEN 1 AND 3)
);

-- Gapless yearly invoice numbers: the counter row is incremented in the issuing transaction,
-- so a rolled-back issue gives its number back and concurrent issues of a year queue on the
-- row lock.
CREATE TABLE invoice_counters (
  year integer PRIMARY KEY,
  last_number bigint NOT NULL,
  CONSTRAINT invoice_counters_year_check CHECK (year BETWEEN 1 AND 9999),
  CONSTRAINT invoice_counters_last_number_check CHECK (last_number >= 1)
);

-- One row per RunRenewals call that got past its idempotency check.
CREATE TABLE renewal_runs (
  id bigserial PRIMARY KEY,
  as_of date NOT NULL,
  started_by text NOT NULL,
  start_time timestamptz NOT NULL
);

-- Plans whose renewal failed, set aside with the reason. A plan has at most one open failure
-- (a later failure updates it); a successful renewal of the plan resolves it.
CREATE TABLE renewal_failures (
  id bigserial PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES renewal_runs (id),
  project_id bigint NOT NULL REFERENCES plans (project_id),
  code text NOT NULL,
  reason text NOT NULL,
  failure_time timestamptz NOT NULL,
  as_of date NOT NULL,
  resolved boolean NOT NULL DEFAULT false,
  resolve_time timestamptz,
  resolve_run_id bigint REFERENCES renewal_runs (id),
  CONSTRAINT renewal_failures_code_check CHECK (code <> ''),
  CONSTRAINT renewal_failures_resolved_check CHECK (resolved = (resolve_time IS NOT NULL))
);

CREATE UNIQUE INDEX renewal_failures_one_open ON renewal_failures (project_id)
  WHERE NOT resolved;
CREATE INDEX renewal_failures_open ON renewal_failures (id) WHERE NOT resolved;

-- 請求書発行依頼: a request to accounting to invoice a case's entries.
CREATE TABLE invoice_issue_requests (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES plans (project_id),
  entry_ids bigint[] NOT NULL DEFAULT '{}',
  note text NOT NULL DEFAULT '',
  requested_by text NOT NULL,
  request_time timestamptz NOT NULL
);

CREATE INDEX invoice_issue_requests_project ON invoice_issue_requests (project_id, id);

-- Notifications written in the transaction of the change they announce; the scheduler
-- delivers them and sets delivered_at (transactional outbox: never lost, never sent for a
-- rolled-back change).
CREATE TABLE notification_outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  delivered_at timestamptz,
  CONSTRAINT notification_outbox_kind_check CHECK (kind <> '')
);

CREATE INDEX notification_outbox_undelivered ON notification_outbox (id)
  WHERE delivered_at IS NULL;
