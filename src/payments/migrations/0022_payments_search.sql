-- GET /v1/payments: staff search every payment newest first (keyset on created_at_ms, id), or by the
-- customer account's IBAN. Without these a search scans and sorts the whole table.
CREATE INDEX payments_newest ON payments (created_at_ms DESC, id DESC);
CREATE INDEX payments_iban ON payments (iban, created_at_ms DESC, id DESC);
