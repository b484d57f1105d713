-- Each participant's PTS account on the ledger, opened on first need. The id is drawn at random
-- (not derived from the user id) so nobody can claim a user's points account id before it is opened.
CREATE TABLE community_points_accounts (
  user_id     uuid PRIMARY KEY,
  account_id  uuid NOT NULL UNIQUE
);
