-- A request left unanswered past its expiry is marked 'expired' once (the citizen and the officer
-- are told then); the partial index finds the pending ones due, for the sweep after a restart.
ALTER TABLE community_requests DROP CONSTRAINT community_requests_status_check;
ALTER TABLE community_requests ADD CONSTRAINT community_requests_status_check
  CHECK (status IN ('pending', 'accepted', 'declined', 'expired'));
CREATE INDEX community_requests_pending_expiry ON community_requests (expires_at_ms) WHERE status = 'pending';
