-- Identity: passkeys (WebAuthn credentials, src/identity/passkeys) and their one-time challenges.

CREATE TABLE identity_passkeys (
  -- The credential id as the authenticator made it (base64url).
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 1400),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key bytea NOT NULL,
  -- The signature counter last seen; an assertion must raise it (unless the authenticator keeps none).
  counter bigint NOT NULL CHECK (counter >= 0),
  transports text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);
CREATE INDEX identity_passkeys_user ON identity_passkeys (user_id);

-- A challenge handed out for one ceremony: single use (deleted when claimed) and short-lived.
-- user_id: whose ceremony it is (registration; a sign-in that named a user); null for a sign-in
-- with a discoverable passkey.
CREATE TABLE identity_passkey_challenges (
  challenge text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('register', 'sign_in', 'step_up')),
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  -- step_up: the hash of what is confirmed (transfer id, creditor, amount, asset).
  binding text CHECK (length(binding) <= 128),
  expires_at timestamptz NOT NULL
);
CREATE INDEX identity_passkey_challenges_expiry ON identity_passkey_challenges (expires_at);

-- Transfers confirmed with a passkey (step-up), written before the transfer's command is appended;
-- a retry of the same transfer id (idempotency) finds its confirmation here.
CREATE TABLE identity_step_up_confirmations (
  transfer_id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credential_id text NOT NULL,
  binding text NOT NULL,
  confirmed_at timestamptz NOT NULL
);
