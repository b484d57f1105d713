-- Identity: the community side of profiles (issue 15 "Profiles": connection counts, points, trophies),
-- a projection of the community context's `community.events` (consumer group `identity-profiles`,
-- where projections run; profiles/community-feed.ts). Only that consumer writes these tables.

-- One row per participant of each established connection: the processed-event key that makes a
-- redelivered ConnectionEstablished change nothing (both participants of a connection are counted).
CREATE TABLE identity_community_connections (
  connection_id text NOT NULL CHECK (length(connection_id) BETWEEN 1 AND 128),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  rewarded boolean NOT NULL,
  -- PTS minor units this participant earned by it (0 when not rewarded).
  points bigint NOT NULL CHECK (points >= 0),
  connected_at timestamptz NOT NULL,
  PRIMARY KEY (connection_id, user_id)
);

-- Per user totals, moved in the same transaction as the rows above.
CREATE TABLE identity_community_stats (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  connections_count bigint NOT NULL CHECK (connections_count >= 0),
  points_earned bigint NOT NULL CHECK (points_earned >= 0),
  last_connection_at timestamptz NOT NULL
);

-- A set of trophy codes per user with the time each was first awarded (a redelivery keeps the earliest).
CREATE TABLE identity_trophies (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  trophy text NOT NULL CHECK (trophy ~ '^[a-z0-9_]{1,64}$'),
  first_awarded_at timestamptz NOT NULL,
  connection_id text NOT NULL CHECK (length(connection_id) BETWEEN 1 AND 128),
  PRIMARY KEY (user_id, trophy)
);
