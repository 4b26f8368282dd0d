-- The scheduler's schema: jobs (one row per job kind: its catch-up cursor and pause state),
-- runs (one row per (job, slot), the exactly-once record) and the notification outbox. The
-- runner applies this with search_path = scheduler, after the common tables
-- (idempotency_keys, audit_events).
--
-- Codes (the API's enum numbers): run state 1 RUNNING, 2 QUEUED, 3 SUCCEEDED, 4 FAILED,
-- 5 SKIPPED; trigger 1 SCHEDULE, 2 MANUAL; notification state 1 PENDING, 2 SENT, 3 DEAD.
-- Slots are stored as the instant of their Asia/Tokyo minute.

CREATE TABLE jobs (
  name text PRIMARY KEY,
  -- The latest slot accounted for (run, queued or recorded as skipped).
  cursor_time timestamptz NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  paused_by text NOT NULL DEFAULT '',
  pause_reason text NOT NULL DEFAULT '',
  pause_time timestamptz,
  create_time timestamptz NOT NULL,
  update_time timestamptz NOT NULL,
  CONSTRAINT jobs_name_check CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$')
);

CREATE TABLE runs (
  id bigserial PRIMARY KEY,
  job text NOT NULL REFERENCES jobs (name),
  slot_time timestamptz NOT NULL,
  state smallint NOT NULL,
  trigger smallint NOT NULL,
  triggered_by text NOT NULL DEFAULT '',
  attempts integer NOT NULL DEFAULT 0,
  takeovers integer NOT NULL DEFAULT 0,
  -- The replica holding a RUNNING run, and until when unless it renews.
  owner text,
  lease_until timestamptz,
  -- When a QUEUED run may be claimed.
  next_attempt_time timestamptz,
  create_time timestamptz NOT NULL,
  start_time timestamptz,
  finish_time timestamptz,
  duration_ms bigint NOT NULL DEFAULT 0,
  summary text NOT NULL DEFAULT '',
  error text NOT NULL DEFAULT '',
  error_code text NOT NULL DEFAULT '',
  -- Exactly once per (job, slot): a slot is claimed by inserting this key.
  CONSTRAINT runs_job_slot_key UNIQUE (job, slot_time),
  CONSTRAINT runs_state_check CHECK (state BETWEEN 1 AND 5),
  CONSTRAINT runs_trigger_check CHECK (trigger IN (1, 2)),
  CONSTRAINT runs_owner_check CHECK ((state = 1) = (owner IS NOT NULL AND lease_until IS NOT NULL)),
  CONSTRAINT runs_queued_check CHECK (state <> 2 OR next_attempt_time IS NOT NULL),
  CONSTRAINT runs_counts_check CHECK (attempts >= 0 AND takeovers >= 0 AND duration_ms >= 0)
);

-- The active runs of a job (what every claim looks at) and the runs a replica holds.
CREATE INDEX runs_active ON runs (job, slot_time) WHERE state IN (1, 2);
CREATE INDEX runs_owner ON runs (owner) WHERE state = 1;

CREATE TABLE notifications (
  id bigserial PRIMARY KEY,
  dedup_key text NOT NULL,
  recipient text NOT NULL,
  template_name text NOT NULL,
  parameters jsonb NOT NULL,
  -- Rendered when enqueued: what is sent, whatever later releases change in the templates.
  subject text NOT NULL,
  body text NOT NULL,
  message_id text NOT NULL,
  state smallint NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_time timestamptz NOT NULL,
  -- The replica sending it now (a lease, so that two replicas never send it at once).
  lease_owner text,
  lease_until timestamptz,
  last_error text NOT NULL DEFAULT '',
  created_by text NOT NULL,
  create_time timestamptz NOT NULL,
  sent_time timestamptz,
  dead_time timestamptz,
  CONSTRAINT notifications_dedup_key_key UNIQUE (dedup_key),
  CONSTRAINT notifications_state_check CHECK (state BETWEEN 1 AND 3),
  CONSTRAINT notifications_sent_check CHECK ((state = 2) = (sent_time IS NOT NULL)),
  CONSTRAINT notifications_dead_check CHECK ((state = 3) = (dead_time IS NOT NULL)),
  CONSTRAINT notifications_recipient_check CHECK (recipient ~ '^[^\s<>,@]+@[^\s<>,@]+$')
);

CREATE INDEX notifications_due ON notifications (next_attempt_time, id) WHERE state = 1;
