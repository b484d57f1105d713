-- Profiles by last change: the risk context's cache of screening names polls for what changed
-- (profiles.namesChangedSince), once a second per screening process.
CREATE INDEX identity_profiles_updated_at ON identity_profiles (updated_at, user_id);
