-- Identity: profiles (the seed's Profile Manager), one per user, created at first sign-in.
-- Personal data (email, phone, legal name) is stored only encrypted (AES-256-GCM, profiles/pii-cipher.ts):
-- each value carries the id of the key that wrote it, so keys can be rotated.

CREATE TABLE identity_profiles (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 64),
  avatar_url text CHECK (length(avatar_url) <= 512),
  zip_code text CHECK (zip_code ~ '^[0-9]{5}(-[0-9]{4})?$'),
  email_enc text CHECK (length(email_enc) <= 1024),
  phone_enc text CHECK (length(phone_enc) <= 512),
  legal_name_enc text CHECK (length(legal_name_enc) <= 1024),
  -- Officers (community programme): agency or precinct and badge; `verified` only by an admin.
  officer_agency text CHECK (length(officer_agency) <= 128),
  officer_badge text CHECK (length(officer_badge) <= 32),
  officer_verified boolean NOT NULL DEFAULT false,
  officer_verified_by uuid,
  officer_verified_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE INDEX identity_profiles_display_name ON identity_profiles (lower(display_name) text_pattern_ops);
