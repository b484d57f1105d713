-- Transactional outbox of community.events: written with the connection and trophies it announces.
CREATE TABLE community_outbox (
  id       bigserial PRIMARY KEY,
  records  bytea NOT NULL
);
