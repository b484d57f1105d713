/**
 * Verifies a token's proof in the browser, trusting nothing the server says about it: the same
 * checks as src/tokens/verify.ts (`verifyProofDocument`), with WebCrypto instead of node:crypto.
 * - the receipt's Ed25519 signature over its canonical text;
 * - the leaf SHA-256(0x00 ‖ body "." signature) and the RFC 9162 audit path up to a Merkle root
 *   (inner nodes SHA-256(0x01 ‖ left ‖ right)) equal to the root in the block header;
 * - the block header's hash and its Ed25519 signature;
 * - the header counts as many receipts as the proof's tree has leaves.
 * The key is the platform's published JWK (GET /v1/chain/key).
 */

export interface ProofDocument {
  readonly tokenId: string;
  readonly sealed: boolean;
  readonly receipt: { readonly body: string; readonly signature: string; readonly data?: ReceiptData };
  readonly proof?: {
    readonly leafIndex: number;
    readonly treeSize: number;
    readonly path: readonly string[];
  };
  readonly block?: {
    readonly height: number;
    readonly header: string;
    readonly headerHash: string;
    readonly signature: string;
  };
}

export interface ReceiptData {
  readonly tokenId: string;
  readonly kind: "mint" | "burn" | "move";
  readonly transferId: string;
  readonly from: string;
  readonly to: string;
  readonly amount: string;
  readonly asset: string;
  readonly description: string;
  readonly atMs: number;
  readonly keyId: string;
}

export interface BlockHeader {
  readonly height: number;
  readonly previousHash: string;
  readonly merkleRoot: string;
  readonly count: number;
  readonly sealedAtMs: number;
  readonly keyId: string;
}

export interface ChainKey {
  readonly keyId: string;
  readonly jwk: { readonly kty: string; readonly crv: string; readonly x: string };
}

export interface Check {
  readonly label: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface Verification {
  readonly verified: boolean;
  readonly checks: readonly Check[];
}

const encoder = new TextEncoder();

function subtle(): SubtleCrypto {
  // WebCrypto exists only in secure contexts (HTTPS, or http://localhost / 127.0.0.1).
  if (!globalThis.crypto?.subtle)
    throw new Error("This page is not served over HTTPS, so the browser cannot verify");
  return globalThis.crypto.subtle;
}

export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error("not hex");
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(base64);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function concat(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().digest("SHA-256", data));
}

/** RFC 6962 domain separation: 0x00 for leaves, 0x01 for inner nodes. */
export async function leafHash(body: string, signature: string): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(concat(Uint8Array.of(0), encoder.encode(`${body}.${signature}`)));
}

export async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(concat(Uint8Array.of(1), left, right));
}

/** RFC 9162 §2.1.3.2: the root implied by a leaf, its index, the tree size and its audit path. */
export async function rootFromProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
): Promise<Uint8Array | undefined> {
  if (index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

export async function importChainKey(key: ChainKey): Promise<CryptoKey> {
  return subtle().importKey(
    "jwk",
    { kty: key.jwk.kty, crv: key.jwk.crv, x: key.jwk.x },
    { name: "Ed25519" },
    false,
    ["verify"],
  );
}

export async function verifyEd25519(key: CryptoKey, text: string, signature: string): Promise<boolean> {
  try {
    return await subtle().verify({ name: "Ed25519" }, key, base64UrlToBytes(signature), encoder.encode(text));
  } catch {
    return false;
  }
}

export function parseHeader(header: string): BlockHeader | undefined {
  try {
    return JSON.parse(header) as BlockHeader;
  } catch {
    return undefined;
  }
}

export async function verifyProof(doc: ProofDocument, key: ChainKey): Promise<Verification> {
  const cryptoKey = await importChainKey(key);
  const checks: Check[] = [];
  const add = (label: string, ok: boolean, good: string, bad: string) =>
    checks.push({ label, ok, detail: ok ? good : bad });

  add(
    "Receipt signature",
    await verifyEd25519(cryptoKey, doc.receipt.body, doc.receipt.signature),
    "Signed by the platform's Ed25519 key",
    "The signature does not match the receipt",
  );
  let data: ReceiptData | undefined;
  try {
    data = JSON.parse(doc.receipt.body) as ReceiptData;
  } catch {
    data = undefined;
  }
  add(
    "Receipt names this token",
    data?.tokenId === doc.tokenId,
    `Token ${doc.tokenId}`,
    `The receipt names token ${data?.tokenId ?? "(unreadable)"}`,
  );
  add(
    "Signing key",
    data?.keyId === key.keyId,
    `Key ${key.keyId}, as published at /v1/chain/key`,
    `The receipt names key ${data?.keyId ?? "?"}, the platform publishes ${key.keyId}`,
  );
  if (!doc.proof || !doc.block) {
    add("Sealed in a block", false, "", "The receipt is not sealed in a block yet");
    return { verified: false, checks };
  }
  add(
    "Block header hash",
    bytesToHex(await sha256(encoder.encode(doc.block.header))) === doc.block.headerHash,
    "SHA-256 of the header matches",
    "The header's hash does not match",
  );
  add(
    "Block header signature",
    await verifyEd25519(cryptoKey, doc.block.header, doc.block.signature),
    "Signed by the platform's Ed25519 key",
    "The signature does not match the header",
  );
  const header = parseHeader(doc.block.header);
  let root: Uint8Array | undefined;
  try {
    root = await rootFromProof(
      await leafHash(doc.receipt.body, doc.receipt.signature),
      doc.proof.leafIndex,
      doc.proof.treeSize,
      doc.proof.path.map(hexToBytes),
    );
  } catch {
    root = undefined;
  }
  add(
    "Merkle inclusion",
    root !== undefined && header !== undefined && bytesToHex(root) === header.merkleRoot,
    `Leaf ${doc.proof.leafIndex + 1} of ${doc.proof.treeSize} leads to the block's Merkle root`,
    "The inclusion proof does not lead to the block's Merkle root",
  );
  add(
    "Block size",
    header?.count === doc.proof.treeSize,
    `The block holds ${doc.proof.treeSize} receipt${doc.proof.treeSize === 1 ? "" : "s"}`,
    "The proof's tree size differs from the block's count",
  );
  return { verified: checks.every((check) => check.ok), checks };
}
