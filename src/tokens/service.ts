/**
 * The tokenizer: consumes ledger outcomes and issues a signed receipt (a token) for every completed
 * movement — a single-phase transfer or the posting of a two-phase one — then seals receipts into
 * blocks. Deposits through the gateways mint (money enters from a system account), withdrawals
 * burn (money leaves to one), transfers between customers move.
 *
 * Critical failures (database, signing) throw: the batch stays unacknowledged, `runConsumer`
 * retries it with backoff, and a record that keeps failing on its own goes to `tokens.receipts.dlq`.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { PlatformServices } from "../app/platform.ts";
import { outcomeFromAvro } from "../ledger/schemas.ts";
import { type RunningConsumer, runConsumer } from "../platform/log/consumer.ts";
import type { LogRecord } from "../platform/log/port.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import { topics } from "../platform/topology.ts";
import { appendReceipts, type ReceiptBody, sealBlock, signedReceipt } from "./chain.ts";
import { type ChainKeys, canonicalJson, generateChainKeys, keysFromPem } from "./crypto.ts";
import { tokenRoutes } from "./http.ts";
import { startReceiptSigner } from "./signer.ts";

export interface TokensOptions {
  /** Seal a block at least this often when receipts wait. */
  readonly sealIntervalMs?: number;
  /** Seal as soon as this many receipts wait; also the largest block. */
  readonly blockSizeMax?: number;
  /** PEM of the platform's Ed25519 key; default: `<dataDir>/chain-ed25519.pem`, created on first start. */
  readonly privateKeyPem?: string;
  readonly retry?: { attemptsMax: number; backoffBaseMs: number; backoffMaxMs: number };
  /** Test hook: runs before each receipt batch is stored (throwing simulates a critical failure). */
  readonly beforeStore?: (tokenIds: readonly string[]) => void;
}

export interface RunningTokens {
  readonly keys: ChainKeys;
  readonly pool: pg.Pool;
  /** Seals every waiting receipt now (tests, shutdown). */
  sealAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function loadOrCreateChainKey(dataDir: string): Promise<ChainKeys> {
  const path = join(resolve(dataDir), "chain-ed25519.pem");
  if (existsSync(path)) return keysFromPem(await readFile(path, "utf8"));
  await mkdir(resolve(dataDir), { recursive: true });
  const { privatePem } = generateChainKeys();
  // wx: two processes starting together must not overwrite each other's key.
  await writeFile(path, privatePem, { mode: 0o600, flag: "wx" }).catch(async (error) => {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
  });
  return keysFromPem(await readFile(path, "utf8"));
}

export async function startTokens(
  services: PlatformServices,
  options: TokensOptions = {},
): Promise<RunningTokens> {
  const { pool, log, clock, logger } = services;
  const keys = options.privateKeyPem
    ? keysFromPem(options.privateKeyPem)
    : await loadOrCreateChainKey(services.config.dataDir);
  const blockSizeMax = options.blockSizeMax ?? 1_000;
  const sealIntervalMs = options.sealIntervalMs ?? 1_000;
  const registry = createPostgresSchemaRegistry(pool);
  const receiptCodec = await createTopicCodec(registry, topics.tokenReceipts);
  const outcomes = services.codecs.outcomes;
  const producer = log.producer();
  const systemAccount = new Map<string, boolean>();

  const isSystem = async (accountId: string): Promise<boolean> => {
    const known = systemAccount.get(accountId);
    if (known !== undefined) return known;
    const account = await services.queries.accountById(accountId);
    const system = account?.system ?? false;
    systemAccount.set(accountId, system);
    return system;
  };

  const receiptOf = async (record: LogRecord): Promise<ReceiptBody | undefined> => {
    const envelope = outcomeFromAvro(outcomes.decode(record.value));
    const outcome = envelope.outcome as typeof envelope.outcome & {
      debitAccountId?: string;
      creditAccountId?: string;
    };
    if (outcome.type !== "MoneyTransferConfirmed") return undefined;
    if (outcome.phase !== "single" && outcome.phase !== "posted") return undefined;
    const fromSystem = outcome.debitAccountId ? await isSystem(outcome.debitAccountId) : false;
    const toSystem = outcome.creditAccountId ? await isSystem(outcome.creditAccountId) : false;
    return {
      v: 1,
      tokenId: envelope.commandId,
      kind: fromSystem && !toSystem ? "mint" : toSystem && !fromSystem ? "burn" : "move",
      transferId: outcome.transferId,
      from: outcome.debitIban,
      to: outcome.creditIban,
      amount: outcome.amount.toString(),
      asset: outcome.asset,
      description: outcome.description,
      atMs: envelope.atMs,
      keyId: keys.keyId,
    };
  };

  const signer = startReceiptSigner(keys.privateKey);
  let wakeSealer = async (_added: number): Promise<void> => {};
  const consumer: RunningConsumer = await runConsumer(log, {
    groupId: "tokenizer",
    topics: [outcomes.topic],
    batchSizeMax: 2_000,
    fetchWaitMaxMs: 50,
    // Receipts are not on anyone's latency path: on Kafka, let the broker gather a fuller batch
    // (fewer signing messages, receipt inserts and produce requests per receipt).
    fetchBytesMin: 65_536,
    retry: options.retry ?? { attemptsMax: 5, backoffBaseMs: 100, backoffMaxMs: 10_000 },
    deadLetterTopic: () => `${receiptCodec.topic}.dlq`,
    handle: async (records) => {
      const bodies = (await Promise.all(records.map(receiptOf))).filter((b) => b !== undefined);
      if (bodies.length === 0) return;
      options.beforeStore?.(bodies.map((b) => b.tokenId));
      const texts = bodies.map((body) => canonicalJson(body));
      const signatures = await signer.signMany(texts);
      const signed = bodies.map((body, i) => ({
        tokenId: body.tokenId,
        ...signedReceipt(texts[i] as string, signatures[i] as string),
      }));
      const added = await appendReceipts(pool, signed, clock.nowMs());
      if (added > 0) {
        await producer.send(
          signed.map((r) => ({
            topic: receiptCodec.topic,
            key: r.tokenId,
            value: receiptCodec.encode({ tokenId: r.tokenId, body: r.text, signature: r.signature }),
          })),
        );
        void wakeSealer(added).catch(() => {});
      }
    },
    onDeadLetter: (record, error) =>
      logger.error({ err: error, offset: String(record.offset) }, "token issuance dead-lettered"),
  });

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Receipts this process appended since its last seal pass started: full blocks are sealed at once
  // rather than at the next tick, without asking the database after every batch. Other processes'
  // receipts are sealed by their own count or by the timer of whichever process gets the lock.
  let appendedSinceSeal = 0;
  let sealing: Promise<void> | undefined;
  const sealPass = async () => {
    appendedSinceSeal = 0;
    while ((await sealBlock(pool, keys, blockSizeMax, clock.nowMs())) !== undefined) {}
  };
  // One pass at a time in this process; a caller arriving during a pass waits for it, which seals
  // everything that committed before it ends.
  const sealAll = (): Promise<void> => {
    sealing ??= sealPass().finally(() => {
      sealing = undefined;
    });
    return sealing;
  };
  const loop = async () => {
    if (stopped) return;
    try {
      await sealAll();
    } catch (error) {
      logger.warn({ err: error }, "sealing failed; retrying");
    }
    if (!stopped) timer = setTimeout(() => void loop(), sealIntervalMs);
  };
  timer = setTimeout(() => void loop(), sealIntervalMs);
  wakeSealer = async (added: number) => {
    appendedSinceSeal += added;
    if (appendedSinceSeal >= blockSizeMax) await sealAll().catch(() => {});
  };

  return {
    keys,
    pool,
    sealAll,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await consumer.stop();
      await signer.close();
    },
  };
}

/** The platform plugin: starts the tokenizer and serves proofs and the chain key. */
export function tokensPlugin(options: TokensOptions = {}, onStarted?: (tokens: RunningTokens) => void) {
  return (services: PlatformServices) => async (app: FastifyInstance) => {
    const tokens = await startTokens(services, options);
    app.addHook("onClose", async () => tokens.stop());
    await tokenRoutes(app, { services, tokens });
    onStarted?.(tokens);
  };
}
