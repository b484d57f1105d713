/**
 * A STAND-IN for a browser vendor's push service (Mozilla autopush, Google FCM, Apple's), on
 * 127.0.0.1 for tests and demos: nothing leaves the machine. It plays both the push service and the
 * browser behind it: `subscribe` makes a subscription as `PushManager.subscribe()` would (a P-256
 * key pair and an auth secret, the private half kept here), and each message POSTed to it is checked
 * as a push service checks it, then decrypted as the browser would, so a test sees the payload the
 * service worker would get:
 * - VAPID (RFC 8292): `Authorization: vapid t=<JWT>, k=<key>`; the key must be the one the
 *   subscription was made for; the JWT is ES256, signed by that key, `aud` this origin, `exp` in the
 *   future and at most 24 hours away, `sub` a mailto: or https: URL. Otherwise 403 (401 if absent).
 * - `TTL` header required (400), `Content-Encoding: aes128gcm` (415), at most 4,096 bytes (413).
 * - The payload decrypted per RFC 8291 / RFC 8188 (400 if it does not decrypt).
 * - An unknown or unsubscribed endpoint: 410 Gone, as real services answer.
 * Accepted messages are answered 201 and recorded. HTTPS with a throwaway self-signed certificate
 * made by `openssl` (web-push speaks only https): trust it with `new https.Agent({ ca })`.
 */
import { execFile } from "node:child_process";
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
} from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { PushSubscription } from "./port.ts";

export interface ReceivedPush {
  readonly endpoint: string;
  /** The decrypted payload, as the service worker's `event.data.text()` would read it. */
  readonly payload: string;
  readonly ttlS: number;
  readonly urgency: string | undefined;
  readonly topic: string | undefined;
  /** The VAPID JWT's `sub`: who sent it. */
  readonly vapidSubject: string;
}

export interface RefusedPush {
  readonly endpoint: string;
  readonly status: number;
  readonly reason: string;
}

export interface LoopbackPushService {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  /** The service's self-signed certificate (PEM): the CA to trust. */
  readonly certificatePem: string;
  /** A browser's subscription for an application server (VAPID) public key, base64url. */
  subscribe(applicationServerKey: string): PushSubscription;
  /** Later messages to the endpoint are answered 410 Gone. */
  unsubscribe(endpoint: string): void;
  readonly received: readonly ReceivedPush[];
  readonly refused: readonly RefusedPush[];
  /** Resolves with the first message to `endpoint` received so far or later, within `timeoutMs`. */
  next(endpoint: string, timeoutMs?: number): Promise<ReceivedPush>;
  close(): Promise<void>;
}

interface Subscriber {
  readonly ecdh: ECDH;
  readonly auth: Buffer;
  readonly applicationServerKey: string;
  active: boolean;
}

const bodyBytesMax = 4_096;
const vapidExpiryMaxS = 24 * 3_600;

class Refusal extends Error {
  readonly status: number;

  constructor(status: number, reason: string) {
    super(reason);
    this.status = status;
  }
}

/** A self-signed P-256 certificate for 127.0.0.1, valid one day. */
async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), "ledgerflow-push-"));
  try {
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    await promisify(execFile)("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ]);
    return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Verifies the VAPID header against the subscription's application server key; returns `sub`. */
export function verifyVapid(
  authorization: string | undefined,
  expectedKey: string,
  origin: string,
  nowS: number,
) {
  const match = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(
    authorization ?? "",
  );
  if (!match) throw new Refusal(401, "no VAPID authorization");
  const [, jwt = "", key = ""] = match;
  if (key !== expectedKey)
    throw new Refusal(403, "VAPID key is not the subscription's application server key");
  const [header = "", claims = "", signature = ""] = jwt.split(".");
  const raw = Buffer.from(key, "base64url");
  const jwk = {
    kty: "EC",
    crv: "P-256",
    x: raw.subarray(1, 33).toString("base64url"),
    y: raw.subarray(33).toString("base64url"),
  };
  const signed = verify(
    "sha256",
    Buffer.from(`${header}.${claims}`),
    { key: createPublicKey({ key: jwk, format: "jwk" }), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!signed) throw new Refusal(403, "VAPID signature does not verify");
  const { alg } = JSON.parse(Buffer.from(header, "base64url").toString()) as { alg?: string };
  const { aud, exp, sub } = JSON.parse(Buffer.from(claims, "base64url").toString()) as Record<
    string,
    unknown
  >;
  if (alg !== "ES256") throw new Refusal(403, "VAPID JWT is not ES256");
  if (aud !== origin) throw new Refusal(403, `VAPID aud is not ${origin}`);
  if (typeof exp !== "number" || exp <= nowS || exp > nowS + vapidExpiryMaxS)
    throw new Refusal(403, "VAPID exp is past or more than 24 hours away");
  if (typeof sub !== "string" || !/^(mailto:|https:)/.test(sub))
    throw new Refusal(403, "VAPID sub is not mailto: or https:");
  return sub;
}

/** RFC 8291 (Web Push encryption) over RFC 8188 (aes128gcm), one record, as a browser decrypts. */
export function decryptAes128gcm(body: Buffer, ecdh: ECDH, auth: Buffer): string {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body.readUInt8(20);
  const senderKey = body.subarray(21, 21 + keyIdLength);
  const record = body.subarray(21 + keyIdLength);
  if (keyIdLength !== 65 || record.length > recordSize || record.length < 17)
    throw new Refusal(400, "not one aes128gcm record");
  const secret = ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), ecdh.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync("sha256", secret, auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The last record's plaintext ends with the delimiter 0x02 followed by zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Refusal(400, "no last-record delimiter");
  return padded.subarray(0, end).toString("utf8");
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= bodyBytesMax) chunks.push(chunk);
    });
    request.on("end", () =>
      bytes > bodyBytesMax ? reject(new Refusal(413, "over 4,096 bytes")) : resolve(Buffer.concat(chunks)),
    );
    request.on("error", reject);
  });
}

/** What the push service does with one POST; returns the record, or throws a Refusal. */
async function accept(
  request: IncomingMessage,
  subscriber: Subscriber | undefined,
  origin: string,
): Promise<ReceivedPush> {
  const body = await readBody(request);
  if (request.method !== "POST") throw new Refusal(405, "only POST");
  if (subscriber === undefined || !subscriber.active) throw new Refusal(410, "no such subscription");
  const vapidSubject = verifyVapid(
    request.headers.authorization,
    subscriber.applicationServerKey,
    origin,
    Date.now() / 1_000,
  );
  const ttl = request.headers.ttl;
  if (typeof ttl !== "string" || !/^\d+$/.test(ttl)) throw new Refusal(400, "no TTL header");
  if (request.headers["content-encoding"] !== "aes128gcm") throw new Refusal(415, "not aes128gcm");
  let payload: string;
  try {
    payload = decryptAes128gcm(body, subscriber.ecdh, subscriber.auth);
  } catch (error) {
    throw error instanceof Refusal ? error : new Refusal(400, "payload does not decrypt");
  }
  const header = (name: string) =>
    typeof request.headers[name] === "string" ? (request.headers[name] as string) : undefined;
  return {
    endpoint: `${origin}${request.url}`,
    payload,
    ttlS: Number(ttl),
    urgency: header("urgency"),
    topic: header("topic"),
    vapidSubject,
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

/** The first push to `endpoint` received so far or later; `waiting` holds the checks new pushes run. */
function nextPush(
  received: readonly ReceivedPush[],
  waiting: Set<() => void>,
  endpoint: string,
  timeoutMs: number,
): Promise<ReceivedPush> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const push = received.find((p) => p.endpoint === endpoint);
      if (push === undefined) return false;
      waiting.delete(check);
      clearTimeout(timer);
      resolve(push);
      return true;
    };
    const timer = setTimeout(() => {
      waiting.delete(check);
      reject(new Error(`no push to ${endpoint} within ${timeoutMs} ms`));
    }, timeoutMs);
    if (!check()) waiting.add(check);
  });
}

export async function startLoopbackPushService(): Promise<LoopbackPushService> {
  const { key, cert } = await selfSignedCertificate();
  const subscribers = new Map<string, Subscriber>();
  const received: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];
  const waiting = new Set<() => void>();
  let origin = "";

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const endpoint = `${origin}${request.url}`;
    accept(request, subscribers.get(endpoint), origin).then(
      (push) => {
        received.push(push);
        response.writeHead(201, { location: `${origin}/message/${randomUUID()}` }).end();
        for (const wake of waiting) wake();
      },
      (error: unknown) => {
        const status = error instanceof Refusal ? error.status : 500;
        refused.push({ endpoint, status, reason: error instanceof Error ? error.message : String(error) });
        response
          .writeHead(status, { "content-type": "text/plain" })
          .end(error instanceof Refusal ? error.message : "");
      },
    );
  };
  const server = createServer({ key, cert }, handle);
  origin = `https://127.0.0.1:${await listen(server)}`;

  return {
    origin,
    certificatePem: cert,
    received,
    refused,
    subscribe(applicationServerKey) {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${origin}/push/${randomUUID()}`;
      subscribers.set(endpoint, { ecdh, auth, applicationServerKey, active: true });
      return {
        endpoint,
        keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") },
      };
    },
    unsubscribe(endpoint) {
      const subscriber = subscribers.get(endpoint);
      if (subscriber) subscriber.active = false;
    },
    next: (endpoint, timeoutMs = 5_000) => nextPush(received, waiting, endpoint, timeoutMs),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
