-- A transfer screening held for review is booked as a pending (two-phase) transfer that only the
-- review (risk context) or the expiry sweeper may complete: the review's id marks it.
ALTER TABLE ledger_transfers ADD COLUMN review_id uuid;
