-- Tokenized money: one signed receipt per completed movement, sealed into hash-chained blocks.
-- Nothing here is trusted on read: `ledgerflow verify` recomputes every hash and signature, so an
-- edited row is detected.
CREATE TABLE token_receipts (
  seq           bigserial PRIMARY KEY,
  token_id      uuid NOT NULL UNIQUE,
  body          text NOT NULL,
  signature     text NOT NULL,
  leaf_hash     text NOT NULL,
  block_height  bigint,
  leaf_index    integer,
  created_at_ms bigint NOT NULL
);
CREATE INDEX token_receipts_unsealed ON token_receipts (seq) WHERE block_height IS NULL;
CREATE INDEX token_receipts_block ON token_receipts (block_height, leaf_index);

CREATE TABLE token_blocks (
  height       bigint PRIMARY KEY,
  header       text NOT NULL,
  header_hash  text NOT NULL UNIQUE,
  signature    text NOT NULL,
  sealed_at_ms bigint NOT NULL
);
