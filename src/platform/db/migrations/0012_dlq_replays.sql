-- Replays of dead-lettered records done through the back office (who, when, where to).
CREATE TABLE dlq_replays (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic            text NOT NULL,
  partition        integer NOT NULL,
  record_offset    bigint NOT NULL,
  replayed_at_ms   bigint NOT NULL,
  replayed_by      text NOT NULL,
  target_topic     text NOT NULL,
  target_partition integer NOT NULL,
  target_offset    bigint NOT NULL
);
CREATE INDEX dlq_replays_record ON dlq_replays (topic, partition, record_offset);
