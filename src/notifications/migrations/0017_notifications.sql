-- The notifications module's inbox: one row per user per movement they should hear of, projected
-- from the ledger's published outcomes. `id` is derived from the outcome, so replays insert nothing.
CREATE TABLE notifications (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id           uuid NOT NULL UNIQUE,
  user_id      text NOT NULL,
  kind         text NOT NULL,
  iban         text NOT NULL,
  counterparty text NOT NULL,
  amount       bigint NOT NULL CHECK (amount > 0),
  asset        text NOT NULL,
  description  text NOT NULL,
  transfer_id  uuid NOT NULL,
  command_id   uuid NOT NULL,
  at_ms        bigint NOT NULL,
  read         boolean NOT NULL DEFAULT false
);
CREATE INDEX notifications_inbox ON notifications (user_id, seq DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE NOT read;
