-- The project service's schema: cases (案件) with their referral record and append-only
-- additional / repeat orders, categories (案件区分), the product master (商品台帳), quotes (見積)
-- with their lines and per-rate totals, activities (商談履歴) and ToDos. The runner applies
-- this with search_path = project, after the common tables (idempotency_keys, audit_events).
--
-- CHECK constraints mirror the rules of project_rules.h that are cheap to state in SQL, so a
-- bug in a handler cannot store a row the API would have refused (it fails as
-- FAILED_PRECONDITION instead). Text columns are NOT NULL DEFAULT '' because the API has no
-- difference between absent and empty. Enumerations are smallints with the numbers of the
-- domain enums (project.h); tax categories are 1 STANDARD, 2 REDUCED, 3 EXEMPT (mapped
-- explicitly by the store, not by the C++ enumerator order).

-- Case numbers (案件番号): 7 digits. nextval is never rolled back, so a number, once drawn,
-- is never given to another case, even when the transaction that drew it fails (numbers
-- then have gaps, which is what "never reused" costs).
CREATE SEQUENCE project_number_seq AS bigint MINVALUE 1 MAXVALUE 9999999 START 1 NO CYCLE;

CREATE TABLE categories (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  CONSTRAINT categories_name_key UNIQUE (name),
  CONSTRAINT categories_name_check CHECK (name <> '')
);

CREATE TABLE projects (
  id bigserial PRIMARY KEY,
  number text NOT NULL,
  -- Customers live in the customer service: no foreign key (the handler asks that service).
  customer_id bigint NOT NULL,
  name text NOT NULL,
  category_id bigint REFERENCES categories (id),    -- NULL = none
  quote_date date,
  acceptance_date date,                             -- 検収日
  order_status smallint NOT NULL,                   -- 1 PROSPECT, 2 WON, 3 LOST
  progress_status text NOT NULL DEFAULT '',
  owner text NOT NULL DEFAULT '',
  department text NOT NULL DEFAULT '',
  memo text NOT NULL DEFAULT '',
  -- The referral record: all NULL for a case that was not referred to a partner store.
  partner_id bigint,                                -- a customer with the partner role
  referral_date date,
  outcome smallint,                                 -- 1 IN_PROGRESS, 2 COMPLETED, 3 LOST
  completion_date date,
  amount bigint,                                    -- paid by the end customer (COMPLETED)
  lost_date date,
  referral_remarks text,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT projects_number_key UNIQUE (number),
  CONSTRAINT projects_number_check CHECK (number ~ '^[0-9]{7}$'),
  CONSTRAINT projects_customer_id_check CHECK (customer_id > 0),
  CONSTRAINT projects_name_check CHECK (name <> ''),
  CONSTRAINT projects_order_status_check CHECK (order_status BETWEEN 1 AND 3),
  CONSTRAINT projects_version_check CHECK (version >= 1),
  -- The outcome's field combinations (DESIGN.md): IN_PROGRESS has no dates and no amount;
  -- COMPLETED a completion date and an amount > 0; LOST a lost date and no amount. Dates are
  -- not before the referral date. coalesce: a CHECK that comes out NULL passes, so a NULL
  -- amount must not make "amount > 0" unknown.
  CONSTRAINT projects_referral_check CHECK (coalesce(
    (partner_id IS NULL AND referral_date IS NULL AND outcome IS NULL
     AND completion_date IS NULL AND amount IS NULL AND lost_date IS NULL
     AND referral_remarks IS NULL)
    OR
    (partner_id > 0 AND referral_date IS NOT NULL AND referral_remarks IS NOT NULL AND (
       (outcome = 1 AND completion_date IS NULL AND amount IS NULL AND lost_date IS NULL)
       OR (outcome = 2 AND completion_date >= referral_date AND amount > 0
           AND lost_date IS NULL)
       OR (outcome = 3 AND lost_date >= referral_date AND completion_date IS NULL
           AND amount IS NULL))),
    false))
);

-- The list filters; each ends in id because lists page by id (or update time, id).
CREATE INDEX projects_update_time ON projects (update_time, id);
CREATE INDEX projects_customer ON projects (customer_id, id);
CREATE INDEX projects_order_status ON projects (order_status, id);
CREATE INDEX projects_owner ON projects (owner, id) WHERE owner <> '';
CREATE INDEX projects_department ON projects (department, id) WHERE department <> '';
CREATE INDEX projects_partner ON projects (partner_id, outcome, id) WHERE partner_id IS NOT NULL;
CREATE INDEX projects_quote_date ON projects (quote_date) WHERE quote_date IS NOT NULL;
CREATE INDEX projects_acceptance_date ON projects (acceptance_date)
  WHERE acceptance_date IS NOT NULL;

-- Additional and repeat orders (追加受注 / リピート受注) of a referred case: rows are only ever
-- added (billing derives commissions from them).
CREATE TABLE extra_orders (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects (id),
  kind smallint NOT NULL,                           -- 1 ADDITIONAL, 2 REPEAT
  order_date date NOT NULL,
  amount bigint NOT NULL,
  note text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  CONSTRAINT extra_orders_kind_check CHECK (kind BETWEEN 1 AND 2),
  CONSTRAINT extra_orders_amount_check CHECK (amount > 0)
);

CREATE INDEX extra_orders_project ON extra_orders (project_id, id);

-- Append-only is a rule of the data, so the database enforces it, not only the store.
CREATE FUNCTION extra_orders_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'extra orders are append-only'
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER extra_orders_append_only
  BEFORE UPDATE OR DELETE ON extra_orders
  FOR EACH ROW EXECUTE FUNCTION extra_orders_append_only();

CREATE TABLE products (
  id bigserial PRIMARY KEY,
  code text NOT NULL,
  name text NOT NULL,
  unit text NOT NULL DEFAULT '',
  unit_price bigint NOT NULL,
  tax_category smallint NOT NULL,                   -- 1 STANDARD, 2 REDUCED, 3 EXEMPT
  active boolean NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  CONSTRAINT products_code_key UNIQUE (code),
  CONSTRAINT products_code_check CHECK (code <> ''),
  CONSTRAINT products_name_check CHECK (name <> ''),
  CONSTRAINT products_unit_price_check CHECK (unit_price >= 0),
  CONSTRAINT products_tax_category_check CHECK (tax_category BETWEEN 1 AND 3)
);

CREATE TABLE quotes (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects (id),
  number integer NOT NULL,                          -- 1, 2, 3 ... within the case
  issue_date date NOT NULL,
  valid_until date NOT NULL,
  win_probability smallint NOT NULL,                -- 確度, %
  expected_order_month date NOT NULL,               -- the month's first day
  status smallint NOT NULL,                         -- 1 DRAFT, 2 SENT, 3 ACCEPTED, 4 REJECTED
  note text NOT NULL DEFAULT '',
  -- The totals as priced when the quote was written (quote_rate_totals per rate): stored,
  -- never recomputed, so a quote's numbers do not change after the fact.
  subtotal bigint NOT NULL,
  tax bigint NOT NULL,
  total bigint NOT NULL,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT quotes_project_id_number_key UNIQUE (project_id, number),
  CONSTRAINT quotes_number_check CHECK (number >= 1),
  CONSTRAINT quotes_dates_check CHECK (issue_date <= valid_until),
  CONSTRAINT quotes_win_probability_check CHECK (win_probability BETWEEN 0 AND 100),
  CONSTRAINT quotes_expected_order_month_check
    CHECK (extract(day FROM expected_order_month) = 1),
  CONSTRAINT quotes_status_check CHECK (status BETWEEN 1 AND 4),
  CONSTRAINT quotes_total_check CHECK (total = subtotal + tax),
  CONSTRAINT quotes_version_check CHECK (version >= 1)
);

-- At most one accepted quote per case (the store also checks, to answer
-- FAILED_PRECONDITION ANOTHER_QUOTE_ACCEPTED; this catches any path that forgets to).
CREATE UNIQUE INDEX quotes_one_accepted ON quotes (project_id) WHERE status = 3;
-- The forecast reads quotes by expected order month (and status).
CREATE INDEX quotes_forecast ON quotes (expected_order_month, status);

CREATE TABLE quote_lines (
  quote_id bigint NOT NULL REFERENCES quotes (id),
  line_no integer NOT NULL,                         -- 0-based order of the lines
  product_id bigint REFERENCES products (id),       -- NULL = free text
  description text NOT NULL DEFAULT '',
  quantity_milli bigint NOT NULL,                   -- thousandths
  unit text NOT NULL DEFAULT '',
  unit_price bigint NOT NULL,
  tax_category smallint NOT NULL,
  amount bigint NOT NULL,
  PRIMARY KEY (quote_id, line_no),
  CONSTRAINT quote_lines_quantity_check CHECK (quantity_milli > 0),
  CONSTRAINT quote_lines_unit_price_check CHECK (unit_price >= 0),
  CONSTRAINT quote_lines_tax_category_check CHECK (tax_category BETWEEN 1 AND 3),
  CONSTRAINT quote_lines_what_check CHECK (product_id IS NOT NULL OR description <> '')
);

-- Per tax rate: the taxable sum and the tax computed once on it (DESIGN.md).
CREATE TABLE quote_rate_totals (
  quote_id bigint NOT NULL REFERENCES quotes (id),
  tax_category smallint NOT NULL,
  taxable bigint NOT NULL,
  tax bigint NOT NULL,
  PRIMARY KEY (quote_id, tax_category),
  CONSTRAINT quote_rate_totals_tax_category_check CHECK (tax_category BETWEEN 1 AND 3)
);

CREATE TABLE activities (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects (id),
  kind smallint NOT NULL,                           -- 1 VISIT .. 5 OTHER
  occur_time timestamptz NOT NULL,
  summary text NOT NULL,
  next_action text NOT NULL DEFAULT '',
  recorded_by text NOT NULL,
  create_time timestamptz NOT NULL,
  CONSTRAINT activities_kind_check CHECK (kind BETWEEN 1 AND 5)
);

-- ListActivities: one case's, newest first.
CREATE INDEX activities_project ON activities (project_id, occur_time, id);

CREATE TABLE todos (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects (id),
  title text NOT NULL,
  due_date date NOT NULL,
  assignee text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  done_time timestamptz,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT todos_title_check CHECK (title <> ''),
  CONSTRAINT todos_assignee_check CHECK (assignee <> ''),
  CONSTRAINT todos_done_check CHECK (done = (done_time IS NOT NULL))
);

CREATE INDEX todos_project ON todos (project_id, id);
-- ListMyTodos: a person's open ToDos.
CREATE INDEX todos_open ON todos (assignee, due_date, id) WHERE NOT done;

-- ListAuditEvents reads one case's events as resource_id = 'projects/<id>' or
-- LIKE 'projects/<id>/%' (its quotes, activities and ToDos), newest first; text_pattern_ops
-- makes the prefix match an index range whatever the database collation.
CREATE INDEX audit_events_resource_id ON audit_events (resource_id text_pattern_ops, id);
