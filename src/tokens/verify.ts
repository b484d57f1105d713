/**
 * Offline verification: nothing stored is trusted. For the whole chain, every block's header hash,
 * signature, link to the previous block and Merkle root (recomputed from its receipts' bodies and
 * signatures) is checked, and so is each receipt's leaf; with `signatures: "all"` each receipt's own
 * Ed25519 signature too (the signed Merkle root already commits to every receipt, so this is a
 * second, slower proof). Blocks seal contiguous seq ranges: each block's receipts must span exactly
 * the range its header names, after the previous block's. For one receipt: its signature, its
 * inclusion proof and the signed header.
 */
import type { KeyObject } from "node:crypto";
import type { BlockHeader, ReceiptBody, StoredBlock, StoredReceipt } from "./chain.ts";
import { genesisHash } from "./chain.ts";
import { leafHash, sha256Hex, verifyText } from "./crypto.ts";
import { merkleRoot, rootFromProof } from "./merkle.ts";

export interface ChainReport {
  readonly blocks: number;
  readonly receipts: number;
  readonly unsealed: number;
  readonly problems: readonly string[];
}

/** Receipts of one block, in leaf order; unsealed ones are checked for their leaf only. */
export function verifyBlock(
  block: StoredBlock,
  receipts: readonly StoredReceipt[],
  previousHash: string,
  key: KeyObject,
  options: { signatures: "all" | "blocks" },
): string[] {
  const problems: string[] = [];
  const at = `block ${block.height}`;
  if (sha256Hex(block.header) !== block.headerHash)
    problems.push(`${at}: header hash does not match its header`);
  if (!verifyText(block.header, block.signature, key)) problems.push(`${at}: header signature is invalid`);
  let header: BlockHeader;
  try {
    header = JSON.parse(block.header) as BlockHeader;
  } catch {
    return [...problems, `${at}: header is not JSON`];
  }
  if (header.height !== block.height) problems.push(`${at}: header says height ${header.height}`);
  if (header.previousHash !== previousHash)
    problems.push(`${at}: previous hash does not link to block ${block.height - 1}`);
  if (header.count !== receipts.length)
    problems.push(`${at}: header counts ${header.count} receipts, ${receipts.length} stored`);
  const leaves: Buffer[] = [];
  for (const [i, receipt] of receipts.entries()) {
    if (receipt.leafIndex !== i)
      problems.push(`${at}: receipt ${receipt.tokenId} has leaf index ${receipt.leafIndex}, expected ${i}`);
    problems.push(...verifyReceiptRow(receipt, key, options));
    leaves.push(leafHash(receipt.body, receipt.signature));
  }
  if (leaves.length > 0 && merkleRoot(leaves).toString("hex") !== header.merkleRoot)
    problems.push(`${at}: Merkle root does not match its receipts`);
  const first = receipts[0]?.seq;
  const last = receipts.at(-1)?.seq;
  if (first !== undefined && (first !== header.firstSeq || last !== header.lastSeq))
    problems.push(
      `${at}: receipts span seq ${first}..${last}, header says ${header.firstSeq}..${header.lastSeq}`,
    );
  return problems;
}

/** A seq as written in a header, or undefined when it is not a decimal integer. */
function seqOf(text: unknown): bigint | undefined {
  return typeof text === "string" && /^\d+$/.test(text) ? BigInt(text) : undefined;
}

/** The seq range a block header names, or undefined when the header does not parse. */
export function headerRange(header: string): { firstSeq: bigint; lastSeq: bigint } | undefined {
  try {
    const parsed = JSON.parse(header) as Partial<BlockHeader>;
    const firstSeq = seqOf(parsed.firstSeq);
    const lastSeq = seqOf(parsed.lastSeq);
    return firstSeq !== undefined && lastSeq !== undefined ? { firstSeq, lastSeq } : undefined;
  } catch {
    return undefined;
  }
}

export function verifyReceiptRow(
  receipt: StoredReceipt,
  key: KeyObject,
  options: { signatures: "all" | "blocks" },
): string[] {
  const problems: string[] = [];
  const at = `receipt ${receipt.tokenId}`;
  if (leafHash(receipt.body, receipt.signature).toString("hex") !== receipt.leafHash)
    problems.push(`${at}: stored leaf hash does not match body and signature`);
  try {
    const body = JSON.parse(receipt.body) as ReceiptBody;
    if (body.tokenId !== receipt.tokenId) problems.push(`${at}: body names token ${body.tokenId}`);
  } catch {
    problems.push(`${at}: body is not JSON`);
  }
  if (options.signatures === "all" && !verifyText(receipt.body, receipt.signature, key))
    problems.push(`${at}: signature is invalid`);
  return problems;
}

/** Walks blocks in height order; `receiptsOf` returns a block's receipts in leaf order. */
export async function verifyChain(
  blocks: AsyncIterable<StoredBlock> | Iterable<StoredBlock>,
  receiptsOf: (height: number) => Promise<readonly StoredReceipt[]> | readonly StoredReceipt[],
  unsealed: readonly StoredReceipt[],
  key: KeyObject,
  options: { signatures: "all" | "blocks" } = { signatures: "blocks" },
): Promise<ChainReport> {
  const problems: string[] = [];
  let previousHash = genesisHash;
  let expectedHeight = 0;
  let blockCount = 0;
  let receiptCount = 0;
  let previousLastSeq = 0n;
  for await (const block of blocks) {
    if (block.height !== expectedHeight)
      problems.push(`block ${expectedHeight} is missing (found ${block.height})`);
    const range = headerRange(block.header);
    if (!range) problems.push(`block ${block.height}: header names no seq range`);
    else if (range.firstSeq <= previousLastSeq || range.lastSeq < range.firstSeq)
      problems.push(
        `block ${block.height}: seq range ${range.firstSeq}..${range.lastSeq} is empty or does not follow the previous block's (..${previousLastSeq})`,
      );
    if (range) previousLastSeq = range.lastSeq;
    const receipts = await receiptsOf(block.height);
    problems.push(...verifyBlock(block, receipts, previousHash, key, options));
    previousHash = block.headerHash;
    expectedHeight = block.height + 1;
    blockCount++;
    receiptCount += receipts.length;
  }
  for (const receipt of unsealed) problems.push(...verifyReceiptRow(receipt, key, { signatures: "all" }));
  return {
    blocks: blockCount,
    receipts: receiptCount + unsealed.length,
    unsealed: unsealed.length,
    problems,
  };
}

/** A proof document as served by `GET /v1/tokens/{id}/proof`. */
export interface ProofDocument {
  readonly receipt: { readonly body: string; readonly signature: string };
  readonly proof?: {
    readonly leafIndex: number;
    readonly treeSize: number;
    readonly path: readonly string[];
  };
  readonly block?: { readonly header: string; readonly headerHash: string; readonly signature: string };
}

export function verifyProofDocument(doc: ProofDocument, key: KeyObject): string[] {
  const problems: string[] = [];
  if (!verifyText(doc.receipt.body, doc.receipt.signature, key))
    problems.push("receipt signature is invalid");
  if (!doc.proof || !doc.block) return [...problems, "receipt is not sealed in a block yet"];
  if (sha256Hex(doc.block.header) !== doc.block.headerHash) problems.push("block header hash does not match");
  if (!verifyText(doc.block.header, doc.block.signature, key))
    problems.push("block header signature is invalid");
  const header = JSON.parse(doc.block.header) as BlockHeader;
  const root = rootFromProof(
    leafHash(doc.receipt.body, doc.receipt.signature),
    doc.proof.leafIndex,
    doc.proof.treeSize,
    doc.proof.path.map((h) => Buffer.from(h, "hex")),
  );
  if (!root || root.toString("hex") !== header.merkleRoot)
    problems.push("inclusion proof does not lead to the block's Merkle root");
  if (header.count !== doc.proof.treeSize) problems.push("proof tree size differs from the block's count");
  return problems;
}
