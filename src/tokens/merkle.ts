/**
 * Merkle trees as in RFC 6962 / RFC 9162 §2.1: MTH of n leaves splits at the largest power of two
 * below n. Inclusion proofs are the audit path; `rootFromProof` recomputes the root from a leaf.
 */
import { nodeHash } from "./crypto.ts";

function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  // Iterative, level by level, equivalent to the recursive MTH: pairs combine left to right and an
  // odd node is carried up unchanged.
  let level: Uint8Array[] = [...leaves];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2)
      next.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return Buffer.from(level[0] as Uint8Array);
}

/** Audit path of leaf `index` (siblings from the bottom up). */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Buffer[] {
  if (index < 0 || index >= leaves.length) throw new RangeError("leaf index out of range");
  const path = (start: number, end: number, m: number): Buffer[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...path(start, start + k, m), merkleRoot(leaves.slice(start + k, end))];
    return [...path(start + k, end, m - k), merkleRoot(leaves.slice(start, start + k))];
  };
  return path(0, leaves.length, index);
}

/** RFC 9162 §2.1.3.2: the root implied by a leaf, its index, the tree size and its audit path. */
export function rootFromProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Buffer | undefined {
  if (index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? Buffer.from(r) : undefined;
}
