-- Trophies each user holds: one row per user and trophy code, awarded once.
CREATE TABLE community_trophies (
  user_id       uuid NOT NULL,
  trophy        text NOT NULL,
  connection_id uuid NOT NULL,
  at_ms         bigint NOT NULL,
  PRIMARY KEY (user_id, trophy)
);
