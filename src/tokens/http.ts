/** Token proofs and the chain's verification key over HTTP. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type pg from "pg";
import { z } from "zod";
import type { LedgerApi } from "../ledger/index.ts";
import { paymentTokenId } from "../payments/index.ts";
import { mayReadAnyAccount, type PreHandler, type Principal, principalOf } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import { blockFromRow, blockWithLeaves, findReceipt, type ReceiptBody } from "./chain.ts";
import { inclusionProof } from "./merkle.ts";
import type { RunningTokens } from "./running.ts";

interface TokenRoutesDeps {
  readonly services: { pool: pg.Pool; authenticate: PreHandler; queries: LedgerApi["queries"] };
  readonly tokens: RunningTokens;
}

export async function tokenRoutes(root: FastifyInstance, deps: TokenRoutesDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { services } = deps;

  app.get(
    "/v1/tokens/:id/proof",
    {
      schema: {
        tags: ["tokens"],
        summary: "A token's signed receipt, its Merkle inclusion proof and the signed block header",
        description:
          "`id` is a token id (the ledger command that completed the movement) or a payment id. 202 while the receipt waits to be sealed into a block.",
        params: z.object({ id: z.uuid() }),
        security: [{ bearer: [] }],
      },
      // The caller's own receipts; tellers' and admins' any (others' are 404).
      config: {
        access: { roles: "any", owner: true },
        openapi: {
          success: { 200: "Sealed: receipt, inclusion proof and block", 202: "Not sealed into a block yet" },
          problems: ["not_found"],
        },
      },
      preHandler: [services.authenticate],
    },
    async (request, reply) => {
      const proof = await tokenProof(deps, principalOf(request), request.params.id);
      return proof.sealed ? proof : reply.code(202).send(proof);
    },
  );
  chainRoutes(app, deps);
}

/** The public verification material: the signing key and the latest block header. */
function chainRoutes(root: FastifyInstance, deps: TokenRoutesDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { tokens } = deps;
  const pool = deps.services.pool;
  app.get(
    "/v1/chain/key",
    {
      schema: {
        tags: ["tokens"],
        summary: "The Ed25519 public key that signs receipts and block headers (JWK and PEM)",
      },
      // Public by design: anyone verifies a receipt offline with it.
      config: { access: { anonymous: true } },
    },
    async () => ({
      keyId: tokens.keys.keyId,
      jwk: {
        ...tokens.keys.publicKey.export({ format: "jwk" }),
        kid: tokens.keys.keyId,
        use: "sig",
        alg: "EdDSA",
      },
      pem: tokens.keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    }),
  );

  app.get(
    "/v1/chain/head",
    {
      schema: { tags: ["tokens"], summary: "The latest sealed block header" },
      config: { access: { anonymous: true }, openapi: { problems: ["not_found"] } },
    },
    async () => {
      const { rows } = await pool.query("SELECT * FROM token_blocks ORDER BY height DESC LIMIT 1");
      if (!rows[0]) throw new ProblemError("not_found", { detail: "No block sealed yet" });
      const block = blockFromRow(rows[0]);
      return {
        height: block.height,
        header: block.header,
        headerHash: block.headerHash,
        signature: block.signature,
      };
    },
  );
}

/**
 * A token's receipt with, once sealed, its inclusion proof and block. `id` is a token id or a payment
 * id; someone else's token is answered as a missing one (staff see all).
 */
async function tokenProof(deps: TokenRoutesDeps, principal: Principal, id: string) {
  const { pool } = deps.services;
  const receipt = (await findReceipt(pool, id)) ?? (await findReceipt(pool, paymentTokenId(id)));
  if (!receipt) throw new ProblemError("not_found", { detail: "No such token" });
  const body = JSON.parse(receipt.body) as ReceiptBody;
  if (!mayReadAnyAccount(principal)) {
    const parties = await Promise.all(
      [body.from, body.to].map((iban) => deps.services.queries.accountByIban(iban)),
    );
    if (!parties.some((a) => a?.ownerId === principal.userId))
      throw new ProblemError("not_found", { detail: "No such token" });
  }
  const doc = {
    tokenId: receipt.tokenId,
    receipt: { body: receipt.body, signature: receipt.signature, data: body },
  };
  const sealed = receipt.blockHeight === null ? undefined : await blockWithLeaves(pool, receipt.blockHeight);
  if (!sealed || receipt.leafIndex === null) return { ...doc, sealed: false as const };
  const { block, leaves } = sealed;
  return {
    ...doc,
    sealed: true as const,
    proof: {
      leafIndex: receipt.leafIndex,
      treeSize: leaves.length,
      path: inclusionProof(leaves, receipt.leafIndex).map((h) => h.toString("hex")),
    },
    block: {
      height: block.height,
      header: block.header,
      headerHash: block.headerHash,
      signature: block.signature,
    },
  };
}
