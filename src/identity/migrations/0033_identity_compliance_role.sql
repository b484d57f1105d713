-- The compliance role: reviews transfers screening held (risk context's review queue).
ALTER TABLE users DROP CONSTRAINT users_roles_check;
ALTER TABLE users ADD CONSTRAINT users_roles_check CHECK (
  cardinality(roles) >= 1 AND roles <@ ARRAY['customer', 'teller', 'admin', 'compliance']::text[]
);
