-- Identity: users and their roles.
-- Login rate limiting is not stored here: embedded mode keeps it in memory, distributed mode in Redis.

CREATE TABLE users (
  id uuid PRIMARY KEY,
  -- Stored as typed; uniqueness and lookup are case-insensitive (see users_username_lower_key).
  username text NOT NULL CHECK (username ~ '^[A-Za-z0-9._-]{3,64}$'),
  -- PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash); carries its own parameters.
  password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  roles text[] NOT NULL CHECK (
    cardinality(roles) >= 1 AND roles <@ ARRAY['customer', 'teller', 'admin']::text[]
  ),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The username alphabet is ASCII, so lower() is a complete case fold.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
