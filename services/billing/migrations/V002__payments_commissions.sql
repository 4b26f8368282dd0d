-- Billing part 2: payments (入金) and their allocations to invoices (消込), the payer names
-- learnt from manual matches, bank statement imports, invoice balances and write-offs
-- (回収不能), and partner commission charges (紹介手数料) with their entries.
--
-- Codes (the API's enum numbers): payment source 1 MANUAL, 2 ZENGIN, 3 CSV; payment status
-- 1 UNMATCHED, 2 PARTIALLY_ALLOCATED, 3 ALLOCATED; match kind 1 UNMATCHED, 2 MATCHED,
-- 3 MATCHED_WITH_FEE, 4 PARTIAL, 5 OVERPAYMENT, 6 MANUAL; entry kind 1 PLAN, 2 COMMISSION;
-- commission kind 1 COMPLETION, 2 ADDITIONAL_ORDER, 3 REPEAT_ORDER.

-- ---- invoice balances -------------------------------------------------------------------
-- Kept on the invoice, changed in the transaction of the allocation or write-off that
-- changes them, so that "what is open" is one indexed read and can never disagree with the
-- allocations (the CHECKs bound it).
ALTER TABLE invoices
  ADD COLUMN paid_amount bigint NOT NULL DEFAULT 0,         -- cash allocated + fees booked
  ADD COLUMN written_off_amount bigint NOT NULL DEFAULT 0,
  ADD COLUMN write_off_reason text NOT NULL DEFAULT '',
  ADD COLUMN write_off_time timestamptz,
  ADD CONSTRAINT invoices_paid_check CHECK (
    paid_amount >= 0 AND written_off_amount >= 0
    AND paid_amount + written_off_amount <= total),
  ADD CONSTRAINT invoices_write_off_check CHECK (
    (write_off_time IS NULL) = (written_off_amount = 0)),
  -- A cancelled invoice has nothing paid or written off (CancelInvoice refuses otherwise).
  ADD CONSTRAINT invoices_cancelled_unpaid_check CHECK (
    status = 1 OR (paid_amount = 0 AND written_off_amount = 0));

-- Open invoices: issued, something left. Reconciliation and the receivables reports read it.
CREATE INDEX invoices_open ON invoices (customer_id, due_date, issue_date, id)
  WHERE status = 1 AND paid_amount + written_off_amount < total;

-- ---- payments -----------------------------------------------------------------------------
CREATE TABLE bank_imports (
  id bigserial PRIMARY KEY,
  source smallint NOT NULL,
  account text NOT NULL,
  line_count integer NOT NULL,
  imported_count integer NOT NULL,
  duplicate_count integer NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  CONSTRAINT bank_imports_source_check CHECK (source BETWEEN 2 AND 3)
);

CREATE TABLE payments (
  id bigserial PRIMARY KEY,
  payment_date date NOT NULL,
  amount bigint NOT NULL,
  payer_name text NOT NULL,
  -- PayerKey(payer_name) (payment_rules.h): what the learnt mapping is keyed by.
  payer_key text NOT NULL,
  reference text NOT NULL DEFAULT '',
  memo text NOT NULL DEFAULT '',
  source smallint NOT NULL,
  -- An imported line's identity (zengin.h): "<account>|<date>|<amount>|<payer>|<sequence>".
  -- The unique index makes a replayed line a no-op. NULL for manual payments.
  source_key text,
  import_id bigint REFERENCES bank_imports (id),
  customer_id bigint,
  status smallint NOT NULL,
  match_kind smallint NOT NULL,
  unmatched_reason text NOT NULL DEFAULT '',
  match_detail text NOT NULL DEFAULT '',
  candidate_customer_ids bigint[] NOT NULL DEFAULT '{}',
  -- Cash of this payment allocated to invoices (fees are not cash) and credited.
  allocated_amount bigint NOT NULL DEFAULT 0,
  credit bigint NOT NULL DEFAULT 0,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT payments_amount_check CHECK (amount > 0),
  CONSTRAINT payments_source_check CHECK (source BETWEEN 1 AND 3),
  CONSTRAINT payments_source_key_check CHECK ((source = 1) = (source_key IS NULL)),
  CONSTRAINT payments_status_check CHECK (status BETWEEN 1 AND 3),
  CONSTRAINT payments_match_kind_check CHECK (match_kind BETWEEN 1 AND 6),
  CONSTRAINT payments_allocated_check CHECK (
    allocated_amount >= 0 AND credit >= 0 AND allocated_amount + credit <= amount),
  -- The status follows from the amounts.
  CONSTRAINT payments_status_amounts_check CHECK (
    CASE status
      WHEN 1 THEN allocated_amount + credit = 0
      WHEN 2 THEN allocated_amount + credit > 0 AND allocated_amount + credit < amount
      ELSE allocated_amount + credit = amount
    END),
  CONSTRAINT payments_version_check CHECK (version >= 1)
);

CREATE UNIQUE INDEX payments_source_key ON payments (source_key) WHERE source_key IS NOT NULL;
CREATE INDEX payments_date ON payments (payment_date DESC, id DESC);
CREATE INDEX payments_queue ON payments (payment_date DESC, id DESC) WHERE status <> 3;
CREATE INDEX payments_customer ON payments (customer_id, payment_date DESC, id DESC);

-- What a payment pays on an invoice. Reversal (UnallocatePayment) marks the row, never
-- deletes it, so the history of who matched what stays readable.
CREATE TABLE payment_allocations (
  id bigserial PRIMARY KEY,
  payment_id bigint NOT NULL REFERENCES payments (id),
  invoice_id bigint NOT NULL REFERENCES invoices (id),
  amount bigint NOT NULL,
  fee bigint NOT NULL,
  manual boolean NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  reversed boolean NOT NULL DEFAULT false,
  reverse_time timestamptz,
  reversed_by text,
  reverse_reason text,
  CONSTRAINT payment_allocations_amounts_check CHECK (amount >= 0 AND fee >= 0 AND amount + fee > 0),
  CONSTRAINT payment_allocations_reversed_check CHECK (reversed = (reverse_time IS NOT NULL))
);

CREATE INDEX payment_allocations_payment ON payment_allocations (payment_id) WHERE NOT reversed;
CREATE INDEX payment_allocations_invoice ON payment_allocations (invoice_id) WHERE NOT reversed;

-- Payer names a person matched by hand: PayerKey → customer. The latest manual match wins.
CREATE TABLE payer_mappings (
  payer_key text PRIMARY KEY,
  customer_id bigint NOT NULL,
  payer_name text NOT NULL,  -- as the bank showed it, for people
  payment_id bigint NOT NULL REFERENCES payments (id),
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT payer_mappings_key_check CHECK (payer_key <> '')
);

-- ---- partner commissions ------------------------------------------------------------------
-- One row per (case, charge_key): the completion of a referred case or one of its extra
-- orders. A corrected construction amount updates the row and adds an adjusting entry; the
-- entries already there (perhaps billed) are never edited.
CREATE TABLE commission_charges (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL,
  partner_id bigint NOT NULL,
  charge_key text NOT NULL,
  kind smallint NOT NULL,
  construction_amount bigint NOT NULL,
  completion_date date NOT NULL,
  report_month date NOT NULL,
  rate_bp integer NOT NULL,
  commission bigint NOT NULL,  -- = the sum of its entries' amounts
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT commission_charges_key UNIQUE (project_id, charge_key),
  CONSTRAINT commission_charges_key_check CHECK (charge_key ~ '^[A-Za-z0-9:_-]{1,100}$'),
  CONSTRAINT commission_charges_kind_check CHECK (kind BETWEEN 1 AND 3),
  CONSTRAINT commission_charges_amount_check CHECK (construction_amount > 0),
  CONSTRAINT commission_charges_rate_check CHECK (rate_bp BETWEEN 0 AND 10000),
  CONSTRAINT commission_charges_commission_check CHECK (commission >= 0),
  CONSTRAINT commission_charges_month_check CHECK (extract(day FROM report_month) = 1),
  CONSTRAINT commission_charges_version_check CHECK (version >= 1)
);

CREATE INDEX commission_charges_partner ON commission_charges (partner_id, id);

-- ---- entries of two kinds -----------------------------------------------------------------
-- A PLAN entry belongs to its case's plan; a COMMISSION entry bills a partner (customer_id)
-- for a referred case (project_id), which need not have a plan. The plan's foreign key moves
-- to a generated column that is the project id for PLAN entries only, so plan entries keep
-- their integrity and the inserts of part 1 need no change (kind defaults to PLAN).
ALTER TABLE entries
  ADD COLUMN kind smallint NOT NULL DEFAULT 1,
  ADD COLUMN commission_charge_id bigint REFERENCES commission_charges (id),
  DROP CONSTRAINT entries_project_id_fkey,
  DROP CONSTRAINT entries_amount_check,
  ADD CONSTRAINT entries_kind_check CHECK (kind BETWEEN 1 AND 2),
  ADD CONSTRAINT entries_commission_check CHECK ((kind = 2) = (commission_charge_id IS NOT NULL)),
  -- Only an adjusting commission entry may be negative; none is zero.
  ADD CONSTRAINT entries_amount_check CHECK (amount > 0 OR (kind = 2 AND amount < 0)),
  ADD COLUMN plan_project_id bigint
    GENERATED ALWAYS AS (CASE WHEN kind = 1 THEN project_id END) STORED
    REFERENCES plans (project_id);

CREATE INDEX entries_commission ON entries (commission_charge_id, id)
  WHERE commission_charge_id IS NOT NULL;
