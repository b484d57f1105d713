-- Risk: loading a 1,000,000-entry list in seconds (issue 14: ≤ 10 s). A load writes its added
-- entries with one COPY; what made that slow was per-row work in PostgreSQL, measured on 1M rows:
-- the foreign key to risk_lists (one RI check per row), the unique btree on (list, kind, value) and
-- the btree on (list, added_version) (about 6 s each, from index inserts and their WAL).
-- - The foreign key goes: entries are written only by a load, in the transaction that locked the
--   list's risk_lists row (which exists by then: adapters/postgres-lists.ts).
-- - The unique index goes: a load inserts only keys not in force (the diff against the version in
--   force, read in that same transaction under the lock), so at most one listing of a key is in
--   force by construction; nothing looks entries up by key in PostgreSQL (screening matches in
--   memory), and marking removals joins the removed keys to the list's entries in one pass.
-- - (list, added_version) becomes a BRIN index: entries are appended version after version, so
--   block ranges follow versions; it costs nearly nothing to keep and still serves changesBetween.
ALTER TABLE risk_list_entries DROP CONSTRAINT risk_list_entries_list_fkey;
DROP INDEX risk_list_entries_in_force;
DROP INDEX risk_list_entries_added;
CREATE INDEX risk_list_entries_added ON risk_list_entries USING brin (list, added_version);
