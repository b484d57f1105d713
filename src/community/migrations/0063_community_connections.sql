-- Established connections (one per accepted request). `points_each` is what each participant earned
-- in PTS (scale 0); the points themselves live on the ledger.
CREATE TABLE community_connections (
  id          uuid PRIMARY KEY,
  request_id  uuid NOT NULL UNIQUE REFERENCES community_requests (id),
  officer_id  uuid NOT NULL,
  citizen_id  uuid NOT NULL,
  kind        text NOT NULL,
  rewarded    boolean NOT NULL,
  points_each bigint NOT NULL,
  cell        text NOT NULL,
  at_ms       bigint NOT NULL
);
CREATE INDEX community_connections_pair ON community_connections (officer_id, citizen_id, at_ms);
CREATE INDEX community_connections_citizen ON community_connections (citizen_id, at_ms);
CREATE INDEX community_connections_officer ON community_connections (officer_id, at_ms);
