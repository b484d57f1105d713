-- Identity: the full role list, and who changed whose roles (the audit trail of grants and revokes).

ALTER TABLE users DROP CONSTRAINT IF EXISTS users_roles_check;
ALTER TABLE users ADD CONSTRAINT users_roles_check CHECK (
  cardinality(roles) >= 1 AND roles <@ ARRAY[
    'customer', 'teller', 'compliance', 'auditor', 'admin', 'officer', 'citizen', 'retailer', 'charity'
  ]::text[]
);

CREATE TABLE identity_role_changes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  role text NOT NULL,
  action text NOT NULL CHECK (action IN ('grant', 'revoke')),
  -- The admin's user id, or NULL when an operator used the command line on the database.
  actor_id uuid,
  at timestamptz NOT NULL
);
CREATE INDEX identity_role_changes_user ON identity_role_changes (user_id, id);
