-- The insights module's read models, projected from the ledger's published outcomes (never from the
-- ledger's tables). Two projections, each with its own consumer group and positions:
--   interactions: insights_interactions (who dealt with whom) and insights_transactions (a client's
--                 transfers across their accounts);
--   branches:     insights_client_branches, insights_branch_volumes and insights_operations.
-- Exactly-once effect: a projection applies a batch and moves its positions in one transaction, and
-- skips records below its positions (redelivery after a crash between commit and offset commit).

-- Where each projection is, per partition of ledger.outcomes: the next offset to apply.
CREATE TABLE insights_positions (
  projection  text NOT NULL,
  partition   int NOT NULL,
  next_offset bigint NOT NULL,
  PRIMARY KEY (projection, partition)
);

-- Per client and counterparty client and asset: transfers each way, exact totals in minor units.
CREATE TABLE insights_interactions (
  client_id       text NOT NULL,
  counterparty_id text NOT NULL,
  -- The counterparty's IBAN in the latest transfer between them (where "pay again" sends to).
  counterparty_iban text NOT NULL,
  asset           text NOT NULL,
  sent_count      bigint NOT NULL DEFAULT 0,
  sent_total      numeric(39, 0) NOT NULL DEFAULT 0,
  received_count  bigint NOT NULL DEFAULT 0,
  received_total  numeric(39, 0) NOT NULL DEFAULT 0,
  first_at_ms     bigint NOT NULL,
  last_at_ms      bigint NOT NULL,
  PRIMARY KEY (client_id, counterparty_id, asset)
);

-- A client's transfers (money that moved: single or posted), one row per side that is a client's.
CREATE TABLE insights_transactions (
  client_id       text NOT NULL,
  command_id      uuid NOT NULL,
  transfer_id     uuid NOT NULL,
  iban            text NOT NULL,
  counterparty    text NOT NULL,
  counterparty_id text,
  amount          bigint NOT NULL,
  asset           text NOT NULL,
  description     text NOT NULL,
  at_ms           bigint NOT NULL,
  PRIMARY KEY (client_id, command_id, iban)
);
CREATE INDEX insights_transactions_page ON insights_transactions (client_id, at_ms DESC, command_id DESC);

-- Branches as first seen in an operation, under the name the teller typed; `key` is that name in
-- lowercase (one branch however it is cased). Address and zip code are set by admins; a rebuild of
-- the projections keeps this registry (it only adds branches it has not seen).
CREATE TABLE insights_branches (
  id          uuid PRIMARY KEY,
  key         text NOT NULL UNIQUE,
  name        text NOT NULL,
  address     text,
  zip_code    text,
  first_at_ms bigint NOT NULL,
  updated_at_ms bigint
);

-- Per client and branch: cash operations there.
CREATE TABLE insights_client_branches (
  client_id   text NOT NULL,
  branch_id   uuid NOT NULL,
  deposits    bigint NOT NULL DEFAULT 0,
  withdrawals bigint NOT NULL DEFAULT 0,
  first_at_ms bigint NOT NULL,
  last_at_ms  bigint NOT NULL,
  PRIMARY KEY (client_id, branch_id)
);
CREATE INDEX insights_client_branches_branch ON insights_client_branches (branch_id, last_at_ms DESC);

-- Per branch and asset: cash in and out, exact.
CREATE TABLE insights_branch_volumes (
  branch_id   uuid NOT NULL,
  asset       text NOT NULL,
  deposits    bigint NOT NULL DEFAULT 0,
  withdrawals bigint NOT NULL DEFAULT 0,
  deposited   numeric(39, 0) NOT NULL DEFAULT 0,
  withdrawn   numeric(39, 0) NOT NULL DEFAULT 0,
  PRIMARY KEY (branch_id, asset)
);

-- A client's cash operations.
CREATE TABLE insights_operations (
  client_id   text NOT NULL,
  command_id  uuid NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('deposit', 'withdrawal')),
  iban        text NOT NULL,
  branch_id   uuid NOT NULL,
  amount      bigint NOT NULL CHECK (amount > 0),
  asset       text NOT NULL,
  at_ms       bigint NOT NULL,
  PRIMARY KEY (client_id, command_id)
);
CREATE INDEX insights_operations_page ON insights_operations (client_id, at_ms DESC, command_id DESC);
