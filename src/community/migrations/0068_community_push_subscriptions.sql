-- Web Push subscriptions (issue 16): where to wake a participant's closed app. An endpoint is one
-- browser's; it belongs to the user who registered it last. Removed when the push service says it
-- is gone (404/410) or the user removes it.
CREATE TABLE community_push_subscriptions (
  endpoint       text PRIMARY KEY,
  user_id        uuid NOT NULL,
  p256dh         text NOT NULL,
  auth           text NOT NULL,
  created_at_ms  bigint NOT NULL
);
CREATE INDEX community_push_subscriptions_user ON community_push_subscriptions (user_id, created_at_ms);
