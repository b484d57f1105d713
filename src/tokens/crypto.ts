/**
 * The cryptography of tokens, all from node:crypto: canonical JSON (sorted keys, no spaces) so the
 * signed bytes are reproducible; Ed25519 signatures; SHA-256 with RFC 6962 domain separation
 * (0x00 for leaves, 0x01 for inner nodes) so a leaf can never pass for a node.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hash,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

const leafPrefix = Buffer.from([0]);
const nodePrefix = Buffer.from([1]);

export function sha256Hex(data: string | Uint8Array): string {
  return hash("sha256", data, "hex");
}

/** Leaf of a receipt: covers its body and its signature, so editing either is detected. */
export function leafHash(body: string, signature: string): Buffer {
  return hash("sha256", Buffer.concat([leafPrefix, Buffer.from(`${body}.${signature}`)]), "buffer");
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return hash("sha256", Buffer.concat([nodePrefix, left, right]), "buffer");
}

export interface ChainKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SHA-256 of the public key's DER, hex, first 16 chars: names the key in receipts. */
  readonly keyId: string;
}

export function keysFromPem(privatePem: string): ChainKeys {
  const privateKey = createPrivateKey(privatePem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

export function generateChainKeys(): { keys: ChainKeys; privatePem: string } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return { keys: keysFromPem(privatePem), privatePem };
}

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: "spki", format: "der" })).slice(0, 16);
}

/** Reads a public key given as PEM (SPKI) or as an Ed25519 JWK (JSON text). */
export function publicKeyFrom(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return createPublicKey({ key: JSON.parse(trimmed), format: "jwk" });
  return createPublicKey(trimmed);
}

export function signText(text: string, key: KeyObject): string {
  return sign(null, Buffer.from(text), key).toString("base64url");
}

export function verifyText(text: string, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(text), key, Buffer.from(signature, "base64url"));
  } catch {
    return false;
  }
}
