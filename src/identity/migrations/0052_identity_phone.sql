-- Identity: phone verification (src/identity/phone). One account per phone number (E.164).

-- The user's verified number; replaced only when a new number is verified.
CREATE TABLE identity_phones (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  phone_e164 text NOT NULL UNIQUE CHECK (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
  verified_at timestamptz NOT NULL
);

-- The pending verification of a user: the code's HMAC (never the code), its expiry, the wrong
-- guesses so far (code_hash is cleared, "burned", once they reach the limit) and the sends in the
-- current window (resend limit).
CREATE TABLE identity_phone_challenges (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  phone_e164 text NOT NULL CHECK (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
  code_hash bytea,
  expires_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  sends integer NOT NULL DEFAULT 1,
  sends_window_started_at timestamptz NOT NULL
);
