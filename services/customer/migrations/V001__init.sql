-- The customer service's schema: customers (incl. leads and partner stores), contacts,
-- inquiries and their append-only response history. The runner applies this with
-- search_path = customer, after the common tables (idempotency_keys, audit_events).
--
-- CHECK constraints mirror the rules of customer_rules.h for what is cheap to state in SQL,
-- so that a bug in a handler cannot store a row the API would have refused. Text columns are
-- NOT NULL DEFAULT '' because the API has no difference between absent and empty.

-- Numbers for generated codes "C" + 6 digits. The store skips a number whose code was
-- already taken by hand, so the sequence only ever moves forward.
CREATE SEQUENCE customer_code_seq AS bigint MINVALUE 1 START 1;

CREATE TABLE customers (
  id bigserial PRIMARY KEY,
  code text NOT NULL,
  name text NOT NULL,
  name_kana text NOT NULL DEFAULT '',
  -- SearchKey() of code, name, kana and phone joined by U+001F; written by the store on
  -- every insert and update. Searched by substring (strpos): pg_trgm would index it, but
  -- CREATE EXTENSION is not for the service role to run; a sequential scan over one
  -- company's customers is fast enough, and the key already ignores width, case and hyphens.
  search_key text NOT NULL DEFAULT '',
  kind smallint NOT NULL,
  postal_code text NOT NULL DEFAULT '',
  prefecture text NOT NULL DEFAULT '',
  address_line1 text NOT NULL DEFAULT '',
  address_line2 text NOT NULL DEFAULT '',
  phone text NOT NULL DEFAULT '',
  email text NOT NULL DEFAULT '',
  corporate_number text NOT NULL DEFAULT '',
  invoice_registration_number text NOT NULL DEFAULT '',
  closing_day smallint NOT NULL DEFAULT 0,          -- 0 = 月末締め
  payment_month_offset smallint NOT NULL DEFAULT 1,
  payment_day smallint NOT NULL DEFAULT 0,          -- 0 = 月末払い
  lifecycle smallint NOT NULL,                      -- 1 LEAD, 2 ACTIVE, 3 INACTIVE
  is_customer boolean NOT NULL,
  is_partner boolean NOT NULL,
  commission_rate_bp integer NOT NULL DEFAULT 0,
  partner_notification_email text NOT NULL DEFAULT '',
  partner_report_contact_name text NOT NULL DEFAULT '',
  partner_report_contact_email text NOT NULL DEFAULT '',
  memo text NOT NULL DEFAULT '',
  convert_time timestamptz,                         -- when a lead became a customer
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT customers_code_key UNIQUE (code),
  CONSTRAINT customers_code_check CHECK (code ~ '^[A-Za-z0-9_-]{1,20}$'),
  CONSTRAINT customers_name_check CHECK (name <> ''),
  CONSTRAINT customers_kind_check CHECK (kind BETWEEN 1 AND 3),
  CONSTRAINT customers_postal_code_check
    CHECK (postal_code = '' OR postal_code ~ '^[0-9]{3}-[0-9]{4}$'),
  CONSTRAINT customers_corporate_number_check
    CHECK (corporate_number = '' OR (kind = 1 AND corporate_number ~ '^[0-9]{13}$')),
  CONSTRAINT customers_invoice_registration_number_check
    CHECK (invoice_registration_number = '' OR invoice_registration_number ~ '^T[0-9]{13}$'),
  CONSTRAINT customers_billing_terms_check
    CHECK (closing_day BETWEEN 0 AND 28 AND payment_month_offset BETWEEN 0 AND 12
           AND payment_day BETWEEN 0 AND 28),
  CONSTRAINT customers_lifecycle_check CHECK (lifecycle BETWEEN 1 AND 3),
  -- A lead has not been converted yet.
  CONSTRAINT customers_lead_check CHECK (lifecycle <> 1 OR convert_time IS NULL),
  CONSTRAINT customers_role_check CHECK (is_customer OR is_partner),
  CONSTRAINT customers_partner_check
    CHECK (commission_rate_bp BETWEEN 0 AND 10000
           AND (NOT is_partner OR partner_notification_email <> '')),
  CONSTRAINT customers_version_check CHECK (version >= 1)
);

-- The list filters; each ends in id because lists page by id.
CREATE INDEX customers_update_time ON customers (update_time, id);
CREATE INDEX customers_prefecture ON customers (prefecture, id);
CREATE INDEX customers_lifecycle ON customers (lifecycle, id);
CREATE INDEX customers_partners ON customers (id) WHERE is_partner;

CREATE TABLE contacts (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  name text NOT NULL,
  name_kana text NOT NULL DEFAULT '',
  department text NOT NULL DEFAULT '',
  title text NOT NULL DEFAULT '',
  email text NOT NULL DEFAULT '',
  phone text NOT NULL DEFAULT '',
  is_primary boolean NOT NULL DEFAULT false,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT contacts_name_check CHECK (name <> ''),
  CONSTRAINT contacts_version_check CHECK (version >= 1),
  -- Lets inquiries reference (customer, contact) pairs, and serves ListContacts.
  CONSTRAINT contacts_customer_id_id_key UNIQUE (customer_id, id)
);

-- At most one primary contact per customer. "At least one" (once there are contacts) is kept
-- by the store, which moves the flag instead of clearing it.
CREATE UNIQUE INDEX contacts_one_primary ON contacts (customer_id) WHERE is_primary;

CREATE TABLE inquiries (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  contact_id bigint,                                -- NULL = no contact
  channel smallint NOT NULL,                        -- 1 phone, 2 mail, 3 web, 4 visit
  subject text NOT NULL,
  body text NOT NULL DEFAULT '',
  status smallint NOT NULL,                         -- 1 OPEN .. 4 CLOSED
  assignee text NOT NULL DEFAULT '',
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  -- The contact must be one of the inquiry's customer's (skipped when contact_id is NULL).
  CONSTRAINT inquiries_contact_fkey FOREIGN KEY (customer_id, contact_id)
    REFERENCES contacts (customer_id, id),
  CONSTRAINT inquiries_channel_check CHECK (channel BETWEEN 1 AND 4),
  CONSTRAINT inquiries_subject_check CHECK (subject <> ''),
  CONSTRAINT inquiries_status_check CHECK (status BETWEEN 1 AND 4),
  CONSTRAINT inquiries_version_check CHECK (version >= 1)
);

CREATE INDEX inquiries_customer ON inquiries (customer_id, id);
CREATE INDEX inquiries_status ON inquiries (status, id);
CREATE INDEX inquiries_assignee ON inquiries (assignee, id) WHERE assignee <> '';

-- The response history (対応履歴) of an inquiry: rows are only ever added.
CREATE TABLE inquiry_responses (
  id bigserial PRIMARY KEY,
  inquiry_id bigint NOT NULL REFERENCES inquiries (id),
  responder text NOT NULL,
  response_time timestamptz NOT NULL,
  body text NOT NULL,
  CONSTRAINT inquiry_responses_responder_check CHECK (responder <> ''),
  CONSTRAINT inquiry_responses_body_check CHECK (body <> '')
);

CREATE INDEX inquiry_responses_inquiry ON inquiry_responses (inquiry_id, id);

-- Append-only is a rule of the data, so the database enforces it, not only the store.
CREATE FUNCTION inquiry_responses_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'inquiry responses are append-only'
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER inquiry_responses_append_only
  BEFORE UPDATE OR DELETE ON inquiry_responses
  FOR EACH ROW EXECUTE FUNCTION inquiry_responses_append_only();

-- ListAuditEvents reads one customer's events as resource_id = 'customers/<id>' or
-- LIKE 'customers/<id>/%' (its contacts and inquiries), newest first; text_pattern_ops makes
-- the prefix match an index range whatever the database collation.
CREATE INDEX audit_events_resource_id ON audit_events (resource_id text_pattern_ops, id);
