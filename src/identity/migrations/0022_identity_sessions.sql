-- Identity: sign-in sessions and their rotating refresh tokens (README "Sessions").
-- A session is one refresh-token family: every refresh replaces its token with a new one; a token
-- presented again after it was replaced (reuse) revokes the whole family.

CREATE TABLE identity_sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The User-Agent as sent at sign-in, cut to 200 characters (shown in the sessions list).
  device text NOT NULL CHECK (length(device) <= 200),
  -- Coarse address only: IPv4 /24 or IPv6 /48 with the rest zeroed (enough to recognise a place).
  ip_coarse text NOT NULL CHECK (length(ip_coarse) <= 64),
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text CHECK (revoked_reason IN ('logout', 'revoked', 'reuse', 'password_reset'))
);

CREATE INDEX identity_sessions_user ON identity_sessions (user_id, created_at DESC);
-- Start-up reloads the recently revoked sessions into every instance's revocation set.
CREATE INDEX identity_sessions_revoked ON identity_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE identity_refresh_tokens (
  -- SHA-256 of the token; the token itself is never stored.
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  session_id uuid NOT NULL REFERENCES identity_sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  -- Set when this token was exchanged for its successor; presenting it again is reuse.
  rotated_at timestamptz,
  expires_at timestamptz NOT NULL
);

CREATE INDEX identity_refresh_tokens_session ON identity_refresh_tokens (session_id);
