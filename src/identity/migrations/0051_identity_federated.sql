-- Identity: sign-in with OpenID Connect providers (src/identity/oidc), and the audit trail of
-- authentication events. Numbered apart from the other identity work of issue 15 so that both can
-- land in either order.

-- A federated identity: who the provider says signed in (issuer + subject), linked to one user.
CREATE TABLE identity_federated (
  issuer text NOT NULL,
  subject text NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider_id text NOT NULL,
  created_at timestamptz NOT NULL,
  last_sign_in_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX identity_federated_user ON identity_federated (user_id);

-- Email addresses a provider vouched for (email_verified: true); the only way an identity links to
-- an existing user. Lower-cased.
CREATE TABLE identity_verified_emails (
  email text PRIMARY KEY CHECK (email = lower(email)),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  verified_at timestamptz NOT NULL
);

-- A sign-in in progress at a provider: state, nonce and PKCE verifier stay here, the browser holds
-- only a random id (httpOnly cookie) whose SHA-256 keys the row. Deleted when the callback uses it.
CREATE TABLE identity_oidc_flows (
  id_hash bytea PRIMARY KEY,
  provider_id text NOT NULL,
  state text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- A one-time ticket the web app exchanges for its tokens after the callback (the tokens never
-- travel in a URL). SHA-256 of the ticket; deleted when used.
CREATE TABLE identity_sign_in_tickets (
  ticket_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);

-- Authentication events for the audit trail (successes and refusals), also logged.
CREATE TABLE identity_auth_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('succeeded', 'refused')),
  user_id uuid,
  provider_id text,
  reason text,
  client_ip text
);
CREATE INDEX identity_auth_events_at ON identity_auth_events (at);
