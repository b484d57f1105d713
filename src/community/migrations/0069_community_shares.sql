-- Sharing a connection (issue 16): each participant's agreement, and once both agreed, one posting
-- per configured social webhook (the posting outbox: a row per target, claimed with a lease, so a
-- share is posted once even with several workers, retries or a restart). No coordinates and no
-- cell: the share names the connection, whose row carries only a coarse cell anyway.
CREATE TABLE community_shares (
  connection_id        uuid PRIMARY KEY REFERENCES community_connections (id),
  officer_agreed_at_ms bigint,
  citizen_agreed_at_ms bigint,
  shared_at_ms         bigint
);

-- `target` is a digest of the webhook URL (a URL may carry a token; it is never stored or shown).
-- `body` is the JSON posted, fixed at share time so every attempt sends (and signs) the same bytes.
CREATE TABLE community_share_posts (
  connection_id       uuid NOT NULL REFERENCES community_shares (connection_id),
  target              text NOT NULL,
  target_label        text NOT NULL,
  body                text NOT NULL,
  status              text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts            integer NOT NULL DEFAULT 0,
  next_attempt_at_ms  bigint NOT NULL,
  last_error          text,
  delivered_at_ms     bigint,
  PRIMARY KEY (connection_id, target)
);
CREATE INDEX community_share_posts_due ON community_share_posts (next_attempt_at_ms) WHERE status = 'pending';
