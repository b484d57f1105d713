-- Hey Blue! connection requests (issue 16). Privacy: `cell` is a coarse H3 cell (resolution 7,
-- about 5 km²) or '' for a virtual request; exact coordinates are never stored.
CREATE TABLE community_requests (
  id             uuid PRIMARY KEY,
  citizen_id     uuid NOT NULL,
  officer_id     uuid NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('in_person', 'virtual')),
  cell           text NOT NULL,
  created_at_ms  bigint NOT NULL,
  expires_at_ms  bigint NOT NULL,
  status         text NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
  connection_id  uuid,
  answered_at_ms bigint
);
-- The flood limit and the one-open-request rule read a pair's recent requests.
CREATE INDEX community_requests_pair ON community_requests (citizen_id, officer_id, created_at_ms);
