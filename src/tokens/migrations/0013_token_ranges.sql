-- Receipts become insert-only: a block records the contiguous `seq` range it seals instead of every
-- receipt recording its block. Sealing no longer updates a wide row per receipt, and the two
-- secondary indexes that only served sealing are gone. A block's leaves are its range's receipts in
-- `seq` order; a leaf's index is its position there (seq has gaps from rolled-back inserts).
--
-- Why ranges are safe with concurrent appenders: appends take the shared advisory lock 7272013 in
-- their transaction (token_append_receipts below) before drawing a seq, and the sealer takes it
-- exclusively (src/tokens/chain.ts sealBlock). While the sealer holds it no append is in flight,
-- so every seq drawn so far is committed or rolled back, and any later append draws a higher seq.
-- That also needs the sequence to hand out values in order across sessions: no per-session cache.
ALTER SEQUENCE token_receipts_seq_seq CACHE 1;

ALTER TABLE token_blocks ADD COLUMN first_seq bigint, ADD COLUMN last_seq bigint;

-- Back-fill from the signed headers (the old sealer wrote the first and last seq it sealed there).
UPDATE token_blocks
   SET first_seq = (header::jsonb ->> 'firstSeq')::bigint,
       last_seq = (header::jsonb ->> 'lastSeq')::bigint;

-- Receipts still waiting whose seq is at or below the sealed head committed after a higher seq was
-- sealed (possible with the old sealer and several appenders): nothing signed names their seq, so
-- they move to the end, in their order, and the next block seals them.
UPDATE token_receipts r
   SET seq = moved.new_seq
  FROM (
    SELECT w.seq, nextval('token_receipts_seq_seq') AS new_seq
      FROM (SELECT seq FROM token_receipts
             WHERE block_height IS NULL AND seq <= (SELECT max(last_seq) FROM token_blocks)
             ORDER BY seq) w
  ) moved
 WHERE r.seq = moved.seq;

-- A sealed block whose receipts are not exactly the receipts of its range cannot be expressed as a
-- range, and its signed header cannot be re-signed here: stop rather than serve wrong proofs.
-- With the ranges disjoint and every sealed receipt inside its own block's range (and no waiting
-- receipt left at or below the head, see above), each range holds exactly its block's receipts.
-- Both checks are linear: a window over the blocks, a primary-key join per receipt.
DO $$
DECLARE
  overlapping bigint;
  misplaced bigint;
BEGIN
  SELECT count(*) INTO overlapping
    FROM (SELECT first_seq, last_seq, lag(last_seq) OVER (ORDER BY first_seq, height) AS previous_last
            FROM token_blocks) b
   WHERE b.first_seq <= b.previous_last OR b.last_seq < b.first_seq;
  SELECT count(*) INTO misplaced
    FROM token_receipts r JOIN token_blocks own ON own.height = r.block_height
   WHERE r.seq NOT BETWEEN own.first_seq AND own.last_seq;
  IF overlapping > 0 OR misplaced > 0 THEN
    RAISE EXCEPTION 'token chain: % blocks overlap another block''s seq range and % sealed receipts lie outside the seq range of their block (concurrent sealing before 0013); they cannot be migrated to range-based blocks', overlapping, misplaced;
  END IF;
END $$;

ALTER TABLE token_blocks
  ALTER COLUMN first_seq SET NOT NULL,
  ALTER COLUMN last_seq SET NOT NULL,
  ADD CONSTRAINT token_blocks_range_ordered CHECK (first_seq <= last_seq),
  -- No seq belongs to two blocks; the index also answers "which block holds seq S" (`@>`).
  ADD CONSTRAINT token_blocks_range_disjoint
    EXCLUDE USING gist (int8range(first_seq, last_seq, '[]') WITH &&);

DROP INDEX token_receipts_unsealed;
DROP INDEX token_receipts_block;
ALTER TABLE token_receipts DROP COLUMN block_height, DROP COLUMN leaf_index;

-- The only way receipts are written: the lock and the insert in one call, so no caller can draw a
-- seq without holding the lock. Idempotent by token id; answers how many receipts were new.
CREATE FUNCTION token_append_receipts(
  ids uuid[], bodies text[], signatures text[], leaves text[], at_ms bigint
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  added integer;
BEGIN
  -- Shared: appenders never wait for each other, only for a sealer holding it exclusively.
  PERFORM pg_advisory_xact_lock_shared(7272013);
  INSERT INTO token_receipts (token_id, body, signature, leaf_hash, created_at_ms)
    SELECT u.id, u.body, u.signature, u.leaf, at_ms
      FROM unnest(ids, bodies, signatures, leaves) AS u(id, body, signature, leaf)
    ON CONFLICT (token_id) DO NOTHING;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END $$;
