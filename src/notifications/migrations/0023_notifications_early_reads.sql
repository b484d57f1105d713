-- A live notification can reach the app (and be marked read) before the inbox projection has stored
-- it: the mark is kept here and applied when the row arrives, so it is not lost. Ids are derived from
-- outcomes (see 0017), so the app knows the id before the row exists. Marks are per user (another
-- user's mark never applies) and short-lived: pruned after an hour (the projection's lag is seconds).
CREATE TABLE notifications_early_reads (
  id         uuid NOT NULL,
  user_id    text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, user_id)
);
CREATE INDEX notifications_early_reads_at ON notifications_early_reads (at);
