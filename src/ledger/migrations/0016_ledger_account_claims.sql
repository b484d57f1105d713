-- Who opened an account id first (issue 11, point 1). The API claims the id before it appends the
-- CreateAccount command, so a second caller under the same id is a 409 while the command is still
-- undecided, instead of being accepted. The claim carries only the SHA-256 of the account's random
-- token (the plaintext is returned once, to the caller that claimed); a replay by the same owner
-- re-appends the same command and learns no token.
CREATE TABLE ledger_account_claims (
  account_id    uuid PRIMARY KEY,
  owner_id      text NOT NULL,
  fingerprint   text NOT NULL,
  token_hash    text NOT NULL,
  claimed_at_ms bigint NOT NULL
);

-- Accounts opened before this migration are claimed by their owner, so that a creation under their
-- id by anyone else is a conflict, and their owner's replay still answers as before.
INSERT INTO ledger_account_claims (account_id, owner_id, fingerprint, token_hash, claimed_at_ms)
SELECT a.id, a.owner_id, c.fingerprint, a.token_hash, a.created_at_ms
  FROM ledger_accounts a
  JOIN ledger_commands c ON c.command_id = a.id
 WHERE NOT a.system
ON CONFLICT (account_id) DO NOTHING;
