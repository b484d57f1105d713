-- Risk: screening lists (versioned sets of entries) and the screening log.
-- A list's entries are stored once with the version range they are listed in ([added, removed)),
-- so a new version costs only its difference and any past version can be read back.

CREATE TABLE risk_lists (
  list text PRIMARY KEY CHECK (list ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
  version integer NOT NULL CHECK (version >= 0)
);

CREATE TABLE risk_list_versions (
  list text NOT NULL REFERENCES risk_lists (list),
  version integer NOT NULL CHECK (version >= 1),
  loaded_at timestamptz NOT NULL,
  source text NOT NULL,
  format text NOT NULL,
  entries integer NOT NULL,
  added integer NOT NULL,
  removed integer NOT NULL,
  unchanged integer NOT NULL,
  PRIMARY KEY (list, version)
);

CREATE TABLE risk_list_entries (
  list text NOT NULL REFERENCES risk_lists (list),
  kind text NOT NULL CHECK (kind IN ('iban', 'user', 'name')),
  value text NOT NULL,
  display text NOT NULL,
  added_version integer NOT NULL,
  removed_version integer CHECK (removed_version > added_version)
);
-- At most one listing of a key in force per list.
CREATE UNIQUE INDEX risk_list_entries_in_force ON risk_list_entries (list, kind, value) WHERE removed_version IS NULL;
CREATE INDEX risk_list_entries_added ON risk_list_entries (list, added_version);
CREATE INDEX risk_list_entries_removed ON risk_list_entries (list, removed_version) WHERE removed_version IS NOT NULL;

-- One row per screened command that hit a list: written before the ledger decides, and read back on
-- redelivery, so a replayed command gets the decision (and list version) it got the first time.
CREATE TABLE risk_screenings (
  command_id uuid PRIMARY KEY,
  decided_at timestamptz NOT NULL,
  decision text NOT NULL CHECK (decision IN ('block', 'hold')),
  command_kind text NOT NULL,
  party_role text NOT NULL,
  party_iban text NOT NULL,
  party_user_id uuid NOT NULL,
  actor_id text NOT NULL,
  counterparty_iban text NOT NULL,
  amount numeric(20, 0) NOT NULL,
  asset text NOT NULL,
  list text NOT NULL,
  list_version integer NOT NULL,
  entry_kind text NOT NULL,
  entry_value text NOT NULL,
  entry_display text NOT NULL,
  score double precision NOT NULL,
  explanation text NOT NULL
);
CREATE INDEX risk_screenings_decided_at ON risk_screenings (decided_at DESC);
