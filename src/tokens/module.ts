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
import type pg from "pg";
import type pino from "pino";
import { z } from "zod";
import { type LedgerApi, outcomeFromAvro } from "../ledger/index.ts";
import type { Clock } from "../platform/clock.ts";
import { positiveInt } from "../platform/config.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import { type RunningConsumer, runConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import { createTopicCodec, type TopicCodec } from "../platform/log/topic-codecs.ts";
import { type ConfigSection, type LedgerflowModule, stopper } from "../platform/module.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import { appendReceipts, type ReceiptBody, sealBlock, signedReceipt } from "./chain.ts";
import { type ChainKeys, canonicalJson, generateChainKeys, keysFromPem } from "./crypto.ts";
import { tokenRoutes } from "./http.ts";
import type { RunningTokens } from "./running.ts";
import { startReceiptSigner } from "./signer.ts";
import { tokensTopics } from "./topics.ts";

export const tokensConfig = {
  sections: {
    tokens: z.object({
      /** Seal a block at least this often when receipts wait. */
      sealIntervalMs: positiveInt.default(1_000),
      /** Seal as soon as this many receipts wait; also the largest block. */
      blockSizeMax: positiveInt.max(100_000).default(1_000),
      /** Outcomes the tokenizer takes per fetch. */
      batchSizeMax: positiveInt.max(20_000).default(2_000),
      fetchWaitMaxMs: positiveInt.default(50),
      /**
       * Kafka only: receipts are on no latency path, so the broker gathers a fuller batch (fewer
       * signing messages, receipt inserts and produce requests per receipt; docs/performance.md).
       */
      fetchBytesMin: positiveInt.max(1_048_576).default(65_536),
    }),
  },
  env: {
    LEDGERFLOW_TOKENS_SEAL_INTERVAL_MS: ["tokens", "sealIntervalMs"],
    LEDGERFLOW_TOKENS_BLOCK_SIZE_MAX: ["tokens", "blockSizeMax"],
    LEDGERFLOW_TOKENS_BATCH_SIZE_MAX: ["tokens", "batchSizeMax"],
    LEDGERFLOW_TOKENS_FETCH_BYTES_MIN: ["tokens", "fetchBytesMin"],
  },
} as const satisfies ConfigSection;

export type TokensConfig = z.infer<typeof tokensConfig.sections.tokens>;

/** Test hooks; everything an operator sets is in the configuration. */
export interface TokensOptions {
  /** PEM of the platform's Ed25519 key; default: `<dataDir>/chain-ed25519.pem`, created on first start. */
  readonly privateKeyPem?: string;
  readonly retry?: { attemptsMax: number; backoffBaseMs: number; backoffMaxMs: number };
  /** Test hook: runs before each receipt batch is stored (throwing simulates a critical failure). */
  readonly beforeStore?: (tokenIds: readonly string[]) => void;
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

export interface TokensDeps {
  readonly config: TokensConfig;
  /** Where the chain key is kept when none is given (`<dataDir>/chain-ed25519.pem`). */
  readonly dataDir: string;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  readonly clock: Clock;
  readonly logger: pino.Logger;
  readonly ledger: Pick<LedgerApi, "codecs" | "queries">;
  readonly authenticate: PreHandler;
  readonly options?: TokensOptions;
}

/**
 * Money entering the customers' side (a deposit: from the cash or clearing account) is minted,
 * money leaving it (a withdrawal) is burnt, a transfer moves: read from the published outcome's
 * transfer kind, never from the ledger's tables.
 */
function tokenKind(kind: string): ReceiptBody["kind"] {
  return kind === "deposit" ? "mint" : kind === "withdrawal" ? "burn" : "move";
}

async function startTokenizer(deps: TokensDeps, keys: ChainKeys): Promise<RunningTokens> {
  const { pool, log, clock, logger, config } = deps;
  const options = deps.options ?? {};
  const receiptCodec = await createTopicCodec(deps.registry, tokensTopics.tokenReceipts);
  const outcomes = deps.ledger.codecs.outcomes;
  const producer = log.producer();
  const signer = startReceiptSigner(keys.privateKey);
  const sealer = new Sealer(deps, keys);

  const consumer: RunningConsumer = await runConsumer(log, {
    groupId: "tokenizer",
    topics: [outcomes.topic],
    batchSizeMax: config.batchSizeMax,
    fetchWaitMaxMs: config.fetchWaitMaxMs,
    fetchBytesMin: config.fetchBytesMin,
    retry: options.retry ?? { attemptsMax: 5, backoffBaseMs: 100, backoffMaxMs: 10_000 },
    deadLetterTopic: () => `${receiptCodec.topic}.dlq`,
    handle: async (records) => {
      const bodies = records
        .map((record) => receiptOf(outcomes, keys, record))
        .filter((b) => b !== undefined);
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
        sealer.appended(added);
      }
    },
    onDeadLetter: (record, error) =>
      logger.error({ err: error, offset: String(record.offset) }, "token issuance dead-lettered"),
  });
  sealer.start();

  return {
    keys,
    pool,
    sealAll: () => sealer.sealAll(),
    async stop() {
      sealer.stop();
      await consumer.stop();
      await signer.close();
    },
  };
}

/** The receipt of a confirmed movement (a single-phase transfer or a posted one); none for others. */
function receiptOf(outcomes: TopicCodec, keys: ChainKeys, record: LogRecord): ReceiptBody | undefined {
  const envelope = outcomeFromAvro(outcomes.decode(record.value));
  const outcome = envelope.outcome;
  if (outcome.type !== "MoneyTransferConfirmed") return undefined;
  if (outcome.phase !== "single" && outcome.phase !== "posted") return undefined;
  return {
    v: 1,
    tokenId: envelope.commandId,
    kind: tokenKind(outcome.kind),
    transferId: outcome.transferId,
    from: outcome.debitIban,
    to: outcome.creditIban,
    amount: outcome.amount.toString(),
    asset: outcome.asset,
    description: outcome.description,
    atMs: envelope.atMs,
    keyId: keys.keyId,
  };
}

/**
 * Seals receipts into blocks: on a timer, and at once when this process appended a full block's
 * worth. Receipts this process appended since its last seal pass started are counted, so full
 * blocks are sealed without asking the database after every batch; other processes' receipts are
 * sealed by their own count or by the timer of whichever process gets the lock.
 */
class Sealer {
  private readonly deps: TokensDeps;
  private readonly keys: ChainKeys;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private appendedSinceSeal = 0;
  private sealing: Promise<void> | undefined;

  constructor(deps: TokensDeps, keys: ChainKeys) {
    this.deps = deps;
    this.keys = keys;
  }

  start(): void {
    this.timer = setTimeout(() => void this.loop(), this.deps.config.sealIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  appended(added: number): void {
    this.appendedSinceSeal += added;
    if (this.appendedSinceSeal >= this.deps.config.blockSizeMax) void this.sealAll().catch(() => {});
  }

  /**
   * One pass at a time in this process; a caller arriving during a pass waits for it, which seals
   * everything that committed before it ends.
   */
  sealAll(): Promise<void> {
    this.sealing ??= this.sealPass().finally(() => {
      this.sealing = undefined;
    });
    return this.sealing;
  }

  private async sealPass(): Promise<void> {
    const { pool, clock, config } = this.deps;
    this.appendedSinceSeal = 0;
    while ((await sealBlock(pool, this.keys, config.blockSizeMax, clock.nowMs())) !== undefined) {}
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.sealAll();
    } catch (error) {
      this.deps.logger.warn({ err: error }, "sealing failed; retrying");
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(), this.deps.config.sealIntervalMs);
  }
}

export const tokensModule: LedgerflowModule<TokensDeps, RunningTokens> = {
  name: "tokens",
  config: tokensConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: tokensTopics,
  async start(deps, run) {
    const keys = deps.options?.privateKeyPem
      ? keysFromPem(deps.options.privateKeyPem)
      : await loadOrCreateChainKey(deps.dataDir);
    const stops = stopper((error) => deps.logger.warn({ err: error }, "tokens stop"));
    const tokens: RunningTokens = run.abilities.processors
      ? await startTokenizer(deps, keys)
      : { keys, pool: deps.pool, sealAll: async () => {}, stop: async () => {} };
    stops.add(() => tokens.stop());
    const edge = { pool: deps.pool, authenticate: deps.authenticate, queries: deps.ledger.queries };
    return {
      published: tokens,
      routes: [(app) => tokenRoutes(app, { services: edge, tokens })],
      running: run.abilities.processors ? ["tokens.tokenizer", "tokens.sealer"] : [],
      stop: stops.stop,
    };
  },
};
