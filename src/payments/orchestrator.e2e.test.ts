/**
 * The orchestrator against real simulator servers, with a real HTTP relay in front of one gateway
 * that holds `POST /payments` in transit for as long as the test says: the exact interleavings of a
 * timed-out capture with the status check that follows it, reproduced without timing luck.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { type GatewaySimulator, startGatewaySimulator } from "../dev/gateway-simulators/server.ts";
import { seededRandom, systemClock } from "../platform/clock.ts";
import { type AttemptHooks, createOrchestrator, type RouteResult } from "./orchestrator.ts";
import { defaultRoutingOptions, type GatewayConfig } from "./routing.ts";

const secret = "orchestrator-e2e-secret";
const stoppers: (() => Promise<void>)[] = [];
after(async () => {
  for (const stop of stoppers.reverse()) await stop();
});

async function simulator(name: string): Promise<GatewaySimulator> {
  const sim = await startGatewaySimulator({
    profile: {
      name,
      kind: "sepa_instant",
      regions: ["EU"],
      currencies: ["EUR"],
      methods: ["sepa_instant"],
      latency: { distribution: "constant", ms: 1 },
    },
    random: seededRandom(7),
    clock: systemClock,
    callbackSecret: secret,
  });
  stoppers.push(() => sim.stop());
  return sim;
}

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/**
 * Forwards everything to `target`, except that each `POST /payments` is held until `release()`:
 * the request is on its way (the caller may give up meanwhile) and reaches the gateway only then.
 * `onStatusCheck` runs after a `GET /payments/<key>` was answered by the gateway and before the
 * answer is handed back, so a test can let the original land between the two.
 */
async function startTransitRelay(target: string) {
  const held: (() => Promise<void>)[] = [];
  let arrived: () => void = () => {};
  const postArrived = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const relay = {
    onStatusCheck: async (): Promise<void> => {},
    postArrived,
    /** Lets every held POST reach the gateway; resolves once the gateway has answered them. */
    async release(): Promise<void> {
      await Promise.all(held.splice(0).map((forward) => forward()));
    },
  };
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const forward = () =>
      fetch(`${target}${request.url}`, {
        method: request.method ?? "GET",
        headers: Object.fromEntries(
          Object.entries(request.headers).filter(
            (entry): entry is [string, string] =>
              typeof entry[1] === "string" && !["host", "connection", "content-length"].includes(entry[0]),
          ),
        ),
        ...(body.length === 0 ? {} : { body: new Uint8Array(body) }),
      });
    if (request.method === "POST" && request.url === "/payments") {
      held.push(async () => {
        const answer = await forward();
        await answer.body?.cancel();
      });
      arrived();
      return; // Never answered: for the caller it is a request that timed out.
    }
    const answer = await forward();
    const text = await answer.text();
    if (request.method === "GET") await relay.onStatusCheck();
    response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "" });
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stoppers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { relay, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function gateway(name: string, url: string, weight: number): GatewayConfig {
  return {
    name,
    url,
    regions: ["EU"],
    currencies: ["EUR"],
    methods: ["sepa_instant"],
    amountMin: 1n,
    amountMax: null,
    weight,
    costBps: 0,
    enabled: true,
    timeoutMs: 250,
    rateLimit: null,
    callbackSecret: secret,
  };
}

const hooks: AttemptHooks = { onStart: async () => 1, onFinish: async () => {} };

async function setUp() {
  const slow = await simulator("slow");
  const steady = await simulator("steady");
  const transit = await startTransitRelay(slow.url);
  const orchestrator = createOrchestrator({
    // The slow gateway is always the first pick; the steady one is the failover.
    gateways: () => [gateway("slow", transit.url, 1_000_000), gateway("steady", steady.url, 1)],
    clock: systemClock,
    random: seededRandom(3),
    options: {
      statusRetryMs: 20,
      statusDeadlineMs: 2_000,
      routing: { ...defaultRoutingOptions, explorationShare: 0 },
    },
  });
  const route = (paymentId: string): Promise<RouteResult> =>
    orchestrator.route(
      {
        request: {
          paymentId,
          amount: 500n,
          currency: "EUR",
          direction: "payin",
          iban: "DE89370400440532013000",
        },
        excluded: new Set(),
      },
      hooks,
    );
  return { slow, steady, transit: transit.relay, route };
}

const capturedAt = (sims: readonly GatewaySimulator[], paymentId: string): string[] =>
  sims.flatMap((sim) =>
    sim
      .captures()
      .captures.filter((c) => c.paymentId === paymentId)
      .map(() => sim.name),
  );

test("a timed-out capture that reaches the gateway after the status check is never captured twice", async () => {
  const { slow, steady, transit, route } = await setUp();
  const result = await route("pay-late-original");
  // The original is still in transit: the gateway answered the status check without knowing it.
  assert.equal(result.kind, "captured");
  assert.equal(result.kind === "captured" ? result.gateway : "", "steady");
  await transit.release(); // Now the original lands at the slow gateway.
  assert.deepEqual(capturedAt([slow, steady], "pay-late-original"), ["steady"]);
  assert.equal(slow.stats().voided, 1, "the slow gateway voided the key before we failed over");
  assert.equal(slow.stats().voidedRefused, 1, "and refused the late original");
});

test("a timed-out capture that lands between the status check and the void stays with its gateway", async () => {
  const { slow, steady, transit, route } = await setUp();
  let landed = false;
  transit.onStatusCheck = async () => {
    if (landed) return;
    landed = true;
    // The gateway has just said "not found"; before we hear it, the original arrives and executes.
    await transit.postArrived;
    await transit.release();
  };
  const result = await route("pay-lands-in-between");
  assert.equal(result.kind, "captured");
  assert.equal(result.kind === "captured" ? result.gateway : "", "slow");
  assert.deepEqual(capturedAt([slow, steady], "pay-lands-in-between"), ["slow"]);
  assert.equal(slow.stats().voided, 0, "the void found the payment and left it alone");
});
