-- The embedded log (src/platform/log/adapters/postgres.ts), modelled on Kafka's storage:
-- topics with a fixed partition count, an append-only sequence of record batches per partition,
-- and committed offsets per consumer group.

CREATE TABLE log_topics (
  name text PRIMARY KEY,
  partitions integer NOT NULL CHECK (partitions > 0),
  replication_factor integer NOT NULL CHECK (replication_factor > 0),
  retention_ms bigint NOT NULL CHECK (retention_ms >= -1),
  cleanup_policy text NOT NULL CHECK (cleanup_policy IN ('delete', 'compact')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- next_offset is the log end offset. Producers bump it with UPDATE ... RETURNING, so the row lock
-- serialises writers of one partition and offsets stay dense. It is updated on every append and not
-- indexed: free space per page keeps those updates HOT.
CREATE TABLE log_partitions (
  topic text NOT NULL REFERENCES log_topics (name) ON DELETE CASCADE,
  partition integer NOT NULL CHECK (partition >= 0),
  next_offset bigint NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
  PRIMARY KEY (topic, partition)
) WITH (fillfactor = 50);

-- One row per record batch, like Kafka's RecordBatch: `records` is an Avro-encoded array of
-- {key, value, headers, timestampMs}; record i has offset base_offset + i. Batches of a partition
-- never overlap, so ordering by base_offset also orders by last_offset.
CREATE TABLE log_batches (
  topic text NOT NULL,
  partition integer NOT NULL,
  base_offset bigint NOT NULL,
  last_offset bigint NOT NULL,
  -- Newest record timestamp in the batch, for time-based retention.
  timestamp_ms bigint NOT NULL,
  records bytea NOT NULL,
  PRIMARY KEY (topic, partition, base_offset),
  CHECK (last_offset >= base_offset)
);
-- Batches are small binary blobs written once: skip compression, which would cost CPU on every append.
ALTER TABLE log_batches ALTER COLUMN records SET STORAGE EXTERNAL;

-- The next offset a group will read per partition.
CREATE TABLE log_group_offsets (
  group_id text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL CHECK (next_offset >= 0),
  PRIMARY KEY (group_id, topic, partition)
) WITH (fillfactor = 50);
