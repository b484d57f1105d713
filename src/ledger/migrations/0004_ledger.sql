-- The ledger's state. Balances are derived from postings by the handler, inside the same
-- transaction that records the command's outcome and its outgoing events (transactional outbox).
CREATE SEQUENCE ledger_account_serial;

CREATE TABLE ledger_accounts (
  id              uuid PRIMARY KEY,
  iban            text NOT NULL UNIQUE,
  owner_id        text NOT NULL,
  asset           text NOT NULL,
  balance         bigint NOT NULL DEFAULT 0,
  debits_pending  bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  overdraft_limit bigint NOT NULL DEFAULT 0 CHECK (overdraft_limit >= 0),
  system          boolean NOT NULL DEFAULT false,
  token_hash      text NOT NULL,
  created_at_ms   bigint NOT NULL,
  -- Last line of defence for "no unauthorised overdraft": the decider asserts it first.
  CONSTRAINT no_unauthorised_overdraft CHECK (system OR balance - debits_pending + overdraft_limit >= 0)
);
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id);

-- One row per movement (single-phase transfer, or a two-phase transfer and its completion).
-- No foreign keys on the append-only tables: the handler writes them in the transaction that has
-- just locked both accounts, and a per-row FK lookup would double the cost of a batch insert.
CREATE TABLE ledger_transfers (
  id                uuid PRIMARY KEY,
  kind              text NOT NULL,
  phase             text NOT NULL,
  debit_account_id  uuid NOT NULL,
  credit_account_id uuid NOT NULL,
  amount            bigint NOT NULL CHECK (amount > 0),
  asset             text NOT NULL,
  description       text NOT NULL,
  expires_at_ms     bigint,
  created_at_ms     bigint NOT NULL,
  completed_at_ms   bigint,
  CHECK (debit_account_id <> credit_account_id)
);
CREATE INDEX ledger_transfers_pending_expiry ON ledger_transfers (expires_at_ms) WHERE phase = 'pending';
CREATE INDEX ledger_transfers_recent ON ledger_transfers (created_at_ms DESC);

-- Postings: one per account per posted movement; an account's history with its running balance.
CREATE TABLE ledger_entries (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id        uuid NOT NULL,
  transfer_id       uuid NOT NULL,
  command_id        uuid NOT NULL,
  asset             text NOT NULL,
  amount            bigint NOT NULL CHECK (amount <> 0),
  balance_after     bigint NOT NULL,
  counterparty_iban text NOT NULL,
  description       text NOT NULL,
  at_ms             bigint NOT NULL
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id DESC);

-- Idempotency: exactly one outcome per command id, forever.
CREATE TABLE ledger_commands (
  command_id   uuid PRIMARY KEY,
  fingerprint  text NOT NULL,
  type         text NOT NULL,
  status       text NOT NULL CHECK (status IN ('CONFIRMED', 'FAILED')),
  reason       text,
  result       jsonb NOT NULL,
  actor_id     text NOT NULL,
  issued_at_ms bigint NOT NULL,
  decided_at_ms bigint NOT NULL
);

-- Transactional outbox: one row per handler batch; the relay publishes it to the log and deletes it.
CREATE TABLE ledger_outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  records    bytea NOT NULL,  -- STORAGE EXTERNAL below: already compact Avro, compressing it costs CPU for nothing
  created_at_ms bigint NOT NULL
);
ALTER TABLE ledger_outbox ALTER COLUMN records SET STORAGE EXTERNAL;
