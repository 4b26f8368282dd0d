-- The report-intake service's schema: reporting periods, one report per partner and period,
-- its lines (the case as it stood when the period opened, and the partner's answer) with their
-- additional / repeat orders, submissions, and the outbox of their effects on the project and
-- billing services. The runner applies this with search_path = report, after the common tables
-- (idempotency_keys, audit_events).
--
-- Codes (the API's enum numbers): outcome 1 IN_PROGRESS (進行中), 2 COMPLETED (施工完了),
-- 3 LOST (失注); answer 0 unanswered, 1 NO_CHANGE (変更なし), 2 CHANGED; extra order kind
-- 1 ADDITIONAL (追加工事), 2 REPEAT (リピート); effect kind 1 RECORD_OUTCOME, 2 COMMISSION.
-- Months are stored as the date of their first day. Cases and partners belong to other
-- services and are referenced by id only.

CREATE TABLE periods (
  month date PRIMARY KEY,
  deadline_day date NOT NULL,  -- the 4th business day
  deadline timestamptz NOT NULL,  -- exclusive: 00:00 Asia/Tokyo after deadline_day
  open_time timestamptz NOT NULL,
  opened_by text NOT NULL,
  CONSTRAINT periods_month_check CHECK (extract(day FROM month) = 1),
  CONSTRAINT periods_deadline_check CHECK (deadline_day > month)
);

-- A report's status is derived (submitted, checked lines, the period's deadline, now), never
-- stored. submit_time is set while submitted; ReopenReport clears it.
CREATE TABLE reports (
  id bigserial PRIMARY KEY,
  month date NOT NULL REFERENCES periods (month),
  partner_id bigint NOT NULL,
  partner_name text NOT NULL,
  partner_email text NOT NULL,
  submit_time timestamptz,
  submitted_by text NOT NULL DEFAULT '',
  submission_count integer NOT NULL DEFAULT 0,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  created_by text NOT NULL,
  update_time timestamptz NOT NULL,
  updated_by text NOT NULL,
  CONSTRAINT reports_month_partner UNIQUE (month, partner_id),
  CONSTRAINT reports_submission_count_check CHECK (submission_count >= 0),
  CONSTRAINT reports_submitted_check CHECK (submit_time IS NULL OR submission_count >= 1),
  CONSTRAINT reports_version_check CHECK (version >= 1)
);

CREATE INDEX reports_partner ON reports (partner_id, id);

-- A report line, or (report_id NULL) a case update made between periods, which is answered
-- and submitted when it is made. The snapshot columns never change; the answer columns are
-- the partner's latest answer. applied_extra_orders counts the extra orders (by position)
-- that an earlier submission applied; submitted_answer is the answer key (see the store) of
-- the last submission, so a resubmission after a reopen applies only lines that changed.
CREATE TABLE lines (
  id bigserial PRIMARY KEY,
  report_id bigint REFERENCES reports (id),
  partner_id bigint NOT NULL,
  project_id bigint NOT NULL,
  case_number text NOT NULL,
  customer_name text NOT NULL,
  referral_date date NOT NULL,
  outcome smallint NOT NULL,
  completion_date date,
  amount bigint NOT NULL DEFAULT 0,
  lost_date date,
  answer smallint NOT NULL DEFAULT 0,
  new_outcome smallint,
  new_completion_date date,
  new_amount bigint NOT NULL DEFAULT 0,
  new_lost_date date,
  remarks text NOT NULL DEFAULT '',
  applied_extra_orders integer NOT NULL DEFAULT 0,
  submitted_answer text NOT NULL DEFAULT '',
  answered_by text NOT NULL DEFAULT '',
  answer_time timestamptz,
  version bigint NOT NULL,
  create_time timestamptz NOT NULL,
  CONSTRAINT lines_report_case UNIQUE (report_id, project_id),
  CONSTRAINT lines_case_number_check CHECK (case_number ~ '^[0-9]{7}$'),
  CONSTRAINT lines_outcome_check CHECK (outcome BETWEEN 1 AND 3),
  CONSTRAINT lines_answer_check CHECK (answer BETWEEN 0 AND 2),
  CONSTRAINT lines_new_outcome_check CHECK (
    (answer = 2) = (new_outcome IS NOT NULL) AND new_outcome BETWEEN 1 AND 3),
  CONSTRAINT lines_amount_check CHECK (amount >= 0 AND new_amount >= 0),
  CONSTRAINT lines_case_update_check CHECK (report_id IS NOT NULL OR answer = 2),
  CONSTRAINT lines_applied_check CHECK (applied_extra_orders >= 0),
  CONSTRAINT lines_version_check CHECK (version >= 1)
);

CREATE INDEX lines_report ON lines (report_id, case_number, id) WHERE report_id IS NOT NULL;
CREATE INDEX lines_case_updates ON lines (partner_id, id) WHERE report_id IS NULL;

-- The additional / repeat orders of a line's answer, by position. Positions below the line's
-- applied_extra_orders were applied and are never deleted, so their id (the commission's
-- charge key "extra:<id>") stays the same for good.
CREATE TABLE line_extra_orders (
  id bigserial PRIMARY KEY,
  line_id bigint NOT NULL REFERENCES lines (id),
  position integer NOT NULL,
  kind smallint NOT NULL,
  order_date date NOT NULL,
  amount bigint NOT NULL,
  note text NOT NULL DEFAULT '',
  CONSTRAINT line_extra_orders_position UNIQUE (line_id, position),
  CONSTRAINT line_extra_orders_position_check CHECK (position >= 0),
  CONSTRAINT line_extra_orders_kind_check CHECK (kind BETWEEN 1 AND 2),
  CONSTRAINT line_extra_orders_amount_check CHECK (amount > 0)
);

-- One row per SubmitReport (sequence 1, 2 after a reopen, ...) or per case update.
CREATE TABLE submissions (
  id bigserial PRIMARY KEY,
  report_id bigint REFERENCES reports (id),
  line_id bigint REFERENCES lines (id),
  sequence integer NOT NULL,
  submit_time timestamptz NOT NULL,
  submitted_by text NOT NULL,
  CONSTRAINT submissions_report_sequence UNIQUE (report_id, sequence),
  CONSTRAINT submissions_target_check CHECK ((report_id IS NULL) <> (line_id IS NULL)),
  CONSTRAINT submissions_sequence_check CHECK (sequence >= 1)
);

CREATE INDEX submissions_line ON submissions (line_id) WHERE line_id IS NOT NULL;

-- The outbox: one row per call to a peer, written in the submission's transaction. The
-- delivery loop claims due rows (FOR UPDATE SKIP LOCKED, a lease so that no row lock is held
-- across the call), calls the peer with request_id (the same on every attempt, so the peer
-- answers a repeat with its first answer), then sets done_at; a failure sets last_error and
-- next_attempt_at (exponential backoff). depends_on: applied only after that effect is done
-- (a case's commission after its outcome). payload: the peer request as protobuf JSON.
CREATE TABLE effects (
  id bigserial PRIMARY KEY,
  submission_id bigint NOT NULL REFERENCES submissions (id),
  line_id bigint NOT NULL REFERENCES lines (id),
  kind smallint NOT NULL,
  request_id text NOT NULL,
  depends_on bigint REFERENCES effects (id),
  payload jsonb NOT NULL,
  description text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_owner text,
  lease_until timestamptz,
  done_at timestamptz,
  last_error text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL,
  CONSTRAINT effects_request_id UNIQUE (request_id),
  CONSTRAINT effects_kind_check CHECK (kind BETWEEN 1 AND 2),
  CONSTRAINT effects_attempts_check CHECK (attempts >= 0)
);

CREATE INDEX effects_due ON effects (next_attempt_at, id) WHERE done_at IS NULL;
CREATE INDEX effects_submission ON effects (submission_id, id);
