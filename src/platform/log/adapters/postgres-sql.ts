/** The statements of the PostgreSQL log (adapters/postgres.ts), kept apart from the code that runs them. */
export const appendSql = `
WITH req AS (
  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]) AS r(topic, partition, n)
), locked AS (
  -- Lock partitions in one global order so concurrent appends never deadlock.
  SELECT p.topic, p.partition FROM log_partitions p JOIN req r USING (topic, partition)
  ORDER BY p.topic, p.partition
  FOR UPDATE OF p
), bumped AS (
  UPDATE log_partitions p SET next_offset = p.next_offset + r.n
  FROM req r JOIN locked l USING (topic, partition)
  WHERE p.topic = r.topic AND p.partition = r.partition
  RETURNING p.topic, p.partition, p.next_offset - r.n AS base_offset
), inserted AS (
  INSERT INTO log_batches (topic, partition, base_offset, last_offset, timestamp_ms, records)
  SELECT c.topic, c.partition, b.base_offset + c.skip, b.base_offset + c.skip + c.n - 1, c.timestamp_ms, c.records
  FROM unnest($4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bytea[])
    AS c(topic, partition, skip, n, timestamp_ms, records)
  JOIN bumped b USING (topic, partition)
)
SELECT topic, partition, base_offset::text AS base_offset FROM bumped`;

// Per request: the batch holding from_offset (the newest starting at or before it) and those after,
// up to the batch holding from_offset + limit - 1. Both bounds use the primary key. Partitions with
// nothing at or after from_offset (most of them, at the tail) stop at their small log_partitions row:
// its committed next_offset moves in the same transaction as the batches.
export const fetchSql = `
SELECT r.ord, b.base_offset::text AS base_offset, b.records
FROM unnest($1::text[], $2::int[], $3::bigint[]) WITH ORDINALITY AS r(topic, partition, from_offset, ord)
JOIN log_partitions p ON p.topic = r.topic AND p.partition = r.partition AND p.next_offset > r.from_offset
CROSS JOIN LATERAL (
  SELECT b.base_offset, b.records FROM log_batches b
  WHERE b.topic = r.topic AND b.partition = r.partition
    AND b.base_offset >= coalesce((
      SELECT max(s.base_offset) FROM log_batches s
      WHERE s.topic = r.topic AND s.partition = r.partition AND s.base_offset <= r.from_offset
    ), 0)
    AND b.base_offset < r.from_offset + $4::bigint
    AND b.last_offset >= r.from_offset
) b
ORDER BY r.ord, b.base_offset`;

/** Rows per retention DELETE, so one pass never holds locks on a huge set. */
export const retentionChunkRows = 10_000;

export const deleteExpiredSql = `
DELETE FROM log_batches WHERE ctid IN (
  SELECT b.ctid FROM log_batches b JOIN log_topics t ON t.name = b.topic
  WHERE t.cleanup_policy = 'delete' AND t.retention_ms >= 0
    AND b.timestamp_ms < $1::bigint - t.retention_ms
    AND NOT EXISTS (
      SELECT 1 FROM log_group_offsets g
      WHERE g.topic = b.topic AND g.partition = b.partition AND g.next_offset <= b.last_offset
    )
  LIMIT $2
)`;

export const createTopicsSql = `
WITH created AS (
  INSERT INTO log_topics (name, partitions, replication_factor, retention_ms, cleanup_policy)
  SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::text[])
  ON CONFLICT (name) DO NOTHING
  RETURNING name, partitions
)
INSERT INTO log_partitions (topic, partition)
SELECT c.name, g FROM created c, generate_series(0, c.partitions - 1) AS g`;

export const deleteTopicsSql = `
WITH batches AS (DELETE FROM log_batches WHERE topic = ANY($1::text[])),
  offsets AS (DELETE FROM log_group_offsets WHERE topic = ANY($1::text[]))
DELETE FROM log_topics WHERE name = ANY($1::text[])`;
