-- Holds for review: a screening decision may now rest on a rule instead of a list entry (list
-- columns empty), carries the party's name as screened and the rules it hit.
ALTER TABLE risk_screenings
  ALTER COLUMN list DROP NOT NULL,
  ALTER COLUMN list_version DROP NOT NULL,
  ALTER COLUMN entry_kind DROP NOT NULL,
  ALTER COLUMN entry_value DROP NOT NULL,
  ALTER COLUMN entry_display DROP NOT NULL,
  ALTER COLUMN score DROP NOT NULL,
  ADD COLUMN party_name text,
  ADD COLUMN rule_hits jsonb NOT NULL DEFAULT '[]';

-- The review queue: one row per transfer the ledger booked as held for review (learned from the
-- ledger's outcomes; the id is the held transfer's). Decided by a reviewer (approved: the ledger
-- posts it; rejected: voids it) or expired by the ledger's pending sweeper.
CREATE TABLE risk_reviews (
  id               uuid PRIMARY KEY,
  state            text NOT NULL CHECK (state IN ('open', 'approved', 'rejected', 'expired')),
  debit_iban       text NOT NULL,
  credit_iban      text NOT NULL,
  amount           numeric(20, 0) NOT NULL,
  asset            text NOT NULL,
  kind             text NOT NULL,
  opened_at_ms     bigint NOT NULL,
  expires_at_ms    bigint NOT NULL,
  decided_at_ms    bigint,
  decided_by       text,
  reason           text,
  -- The ledger command carrying the decision (idempotency key of the post or void).
  decision_command uuid,
  -- What the ledger did in the end: posted, voided or expired.
  ledger_phase     text
);
-- Cursor pagination, newest first, per state filter.
CREATE INDEX risk_reviews_open ON risk_reviews (opened_at_ms DESC, id DESC) WHERE state = 'open';
CREATE INDEX risk_reviews_newest ON risk_reviews (opened_at_ms DESC, id DESC);

-- Facts for velocity rules: every transfer screened while rules are on (idempotent per command).
CREATE TABLE risk_transfer_facts (
  command_id    uuid PRIMARY KEY,
  sender_iban   text NOT NULL,
  issued_at_ms  bigint NOT NULL
);
CREATE INDEX risk_transfer_facts_sender ON risk_transfer_facts (sender_iban, issued_at_ms DESC);

-- Facts for first-time counterparty rules: pairs money moved between (confirmed transfers, from
-- the ledger's outcomes).
CREATE TABLE risk_counterparties (
  sender_iban   text NOT NULL,
  receiver_iban text NOT NULL,
  first_at_ms   bigint NOT NULL,
  PRIMARY KEY (sender_iban, receiver_iban)
);
