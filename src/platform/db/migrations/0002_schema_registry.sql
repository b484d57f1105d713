CREATE TABLE schema_registry (
  id          serial PRIMARY KEY,
  subject     text NOT NULL,
  version     int NOT NULL,
  schema      jsonb NOT NULL,
  fingerprint text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subject, version),
  UNIQUE (subject, fingerprint)
);
