/**
 * The OpenID Connect tables of migration 0051: sign-ins in progress, one-time tickets, federated
 * identities and the verified emails they brought. Random ids and tickets are stored as SHA-256,
 * so a copy of the database cannot finish anyone's sign-in.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { inTransaction } from "../../platform/db/pool.ts";

export interface OidcFlow {
  readonly providerId: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface OidcStore {
  saveFlow(flowId: string, flow: OidcFlow, expiresAtMs: number): Promise<void>;
  /** Returns the flow once (deleting it), if it exists and has not expired. */
  takeFlow(flowId: string, nowMs: number): Promise<OidcFlow | undefined>;
  saveTicket(ticket: string, userId: string, expiresAtMs: number): Promise<void>;
  /** The ticket's user, once (deleting it), if it exists and has not expired. */
  takeTicket(ticket: string, nowMs: number): Promise<string | undefined>;
  linkedUserOf(issuer: string, subject: string): Promise<string | undefined>;
  verifiedEmailOwnerOf(email: string): Promise<string | undefined>;
  /**
   * Links the identity to the user (and records a verified email for them, if given). Returns the
   * user the identity is linked to: another one when a concurrent sign-in linked it first.
   */
  link(link: FederatedLink): Promise<string>;
  touch(issuer: string, subject: string, nowMs: number): Promise<void>;
}

export interface FederatedLink {
  readonly issuer: string;
  readonly subject: string;
  readonly userId: string;
  readonly providerId: string;
  readonly verifiedEmail: string | undefined;
  readonly nowMs: number;
}

export function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export function createPostgresOidcStore(pool: pg.Pool): OidcStore {
  return {
    async saveFlow(flowId, flow, expiresAtMs) {
      // Abandoned flows go when a later one is saved: the table never grows past a TTL's worth.
      await pool.query("DELETE FROM identity_oidc_flows WHERE expires_at < now() - interval '1 hour'");
      await pool.query(
        `INSERT INTO identity_oidc_flows (id_hash, provider_id, state, nonce, code_verifier, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [sha256(flowId), flow.providerId, flow.state, flow.nonce, flow.codeVerifier, new Date(expiresAtMs)],
      );
    },
    async takeFlow(flowId, nowMs) {
      const { rows } = await pool.query(
        `DELETE FROM identity_oidc_flows WHERE id_hash = $1
         RETURNING provider_id, state, nonce, code_verifier, expires_at`,
        [sha256(flowId)],
      );
      const row = rows[0];
      if (row === undefined || (row.expires_at as Date).getTime() <= nowMs) return undefined;
      return {
        providerId: row.provider_id,
        state: row.state,
        nonce: row.nonce,
        codeVerifier: row.code_verifier,
      };
    },
    async saveTicket(ticket, userId, expiresAtMs) {
      await pool.query("DELETE FROM identity_sign_in_tickets WHERE expires_at < now() - interval '1 hour'");
      await pool.query(
        "INSERT INTO identity_sign_in_tickets (ticket_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        [sha256(ticket), userId, new Date(expiresAtMs)],
      );
    },
    async takeTicket(ticket, nowMs) {
      const { rows } = await pool.query(
        "DELETE FROM identity_sign_in_tickets WHERE ticket_hash = $1 RETURNING user_id, expires_at",
        [sha256(ticket)],
      );
      const row = rows[0];
      if (row === undefined || (row.expires_at as Date).getTime() <= nowMs) return undefined;
      return row.user_id as string;
    },
    async linkedUserOf(issuer, subject) {
      const { rows } = await pool.query(
        "SELECT user_id FROM identity_federated WHERE issuer = $1 AND subject = $2",
        [issuer, subject],
      );
      return rows[0]?.user_id as string | undefined;
    },
    async verifiedEmailOwnerOf(email) {
      const { rows } = await pool.query("SELECT user_id FROM identity_verified_emails WHERE email = $1", [
        email,
      ]);
      return rows[0]?.user_id as string | undefined;
    },
    link: (link) => linkIdentity(pool, link),
    async touch(issuer, subject, nowMs) {
      await pool.query(
        "UPDATE identity_federated SET last_sign_in_at = $3 WHERE issuer = $1 AND subject = $2",
        [issuer, subject, new Date(nowMs)],
      );
    },
  };
}

async function linkIdentity(pool: pg.Pool, link: FederatedLink): Promise<string> {
  return inTransaction(pool, async (client) => {
    const at = new Date(link.nowMs);
    await client.query(
      `INSERT INTO identity_federated (issuer, subject, user_id, provider_id, created_at, last_sign_in_at)
       VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (issuer, subject) DO NOTHING`,
      [link.issuer, link.subject, link.userId, link.providerId, at],
    );
    const { rows } = await client.query(
      "SELECT user_id FROM identity_federated WHERE issuer = $1 AND subject = $2",
      [link.issuer, link.subject],
    );
    const linked = rows[0]?.user_id as string;
    if (linked === link.userId && link.verifiedEmail !== undefined)
      await client.query(
        `INSERT INTO identity_verified_emails (email, user_id, verified_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO NOTHING`,
        [link.verifiedEmail, link.userId, at],
      );
    return linked;
  });
}
