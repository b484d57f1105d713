-- Payments: the state of each payment (one row, the decider's state), the gateway registry, and the
-- transactional outbox of payment events and registry changes.
CREATE TABLE payments (
  id                  uuid PRIMARY KEY,
  direction           text NOT NULL CHECK (direction IN ('deposit', 'withdrawal')),
  owner_id            text NOT NULL,
  iban                text NOT NULL,
  amount              bigint NOT NULL CHECK (amount > 0),
  asset               text NOT NULL,
  region              text,
  method              text,
  fingerprint         text NOT NULL,
  status              text NOT NULL CHECK (status IN ('PENDING', 'SUCCESS', 'FAILURE', 'REVERSED')),
  stage               text NOT NULL,
  reason              text,
  gateway             text,
  gateway_payment_id  text,
  ledger_transfer_id  uuid,
  attempts            jsonb NOT NULL DEFAULT '[]',
  created_at_ms       bigint NOT NULL,
  updated_at_ms       bigint NOT NULL,
  version             integer NOT NULL,
  -- Which orchestrator instance drives the payment, until when (crash → another one resumes).
  lease_owner         text,
  lease_until_ms      bigint NOT NULL DEFAULT 0
);
CREATE INDEX payments_unfinished ON payments (lease_until_ms) WHERE stage <> 'done';
CREATE INDEX payments_owner ON payments (owner_id, created_at_ms);

CREATE TABLE payment_gateways (
  name           text PRIMARY KEY,
  config         jsonb NOT NULL,
  version        integer NOT NULL,
  updated_at_ms  bigint NOT NULL
);

CREATE TABLE payments_outbox (
  id       bigserial PRIMARY KEY,
  records  bytea NOT NULL
);
