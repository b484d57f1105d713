/**
 * Personal data at rest (email, phone, legal name): AES-256-GCM with a 96-bit random nonce per
 * value, through node:crypto. A stored value is `v1.<keyId>.<nonce>.<tag>.<ciphertext>` (base64url
 * parts), so a key can be rotated: new values use the current key, old ones are read with the key
 * their id names (`LEDGERFLOW_PII_KEYS_PREVIOUS`). The key id is derived from the key (SHA-256,
 * first 8 bytes) so it needs no setting of its own and never reveals the key. The field name is
 * bound in as associated data: a ciphertext copied into another column does not decrypt.
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import type { Random } from "../../platform/clock.ts";

const keyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;
const format = "v1";

export interface PiiCipher {
  readonly keyId: string;
  encrypt(field: string, plaintext: string): string;
  /** Throws when the value was altered, belongs to another field, or its key is not configured. */
  decrypt(field: string, stored: string): string;
  /** The key id a stored value was written with (for re-encryption after a rotation). */
  keyIdOf(stored: string): string | undefined;
}

/** A key as configured: 32 bytes, base64 or base64url. */
export function parsePiiKey(text: string): Uint8Array {
  const bytes = Buffer.from(text.trim(), "base64url");
  if (bytes.byteLength !== keyBytes)
    throw new Error(`a PII key is ${keyBytes} bytes, base64 (got ${bytes.byteLength})`);
  return bytes;
}

export function piiKeyIdOf(key: Uint8Array): string {
  return createHash("sha256").update(key).digest().subarray(0, 8).toString("base64url");
}

export function createPiiCipher(
  current: Uint8Array,
  previous: readonly Uint8Array[],
  random: Random,
): PiiCipher {
  const keys = new Map<string, Uint8Array>();
  for (const key of [current, ...previous]) keys.set(piiKeyIdOf(key), key);
  const keyId = piiKeyIdOf(current);
  return {
    keyId,
    encrypt(field, plaintext) {
      const nonce = Buffer.from(random.bytes(nonceBytes));
      const cipher = createCipheriv("aes-256-gcm", current, nonce, { authTagLength: tagBytes });
      cipher.setAAD(Buffer.from(field));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [format, keyId, nonce, cipher.getAuthTag(), body]
        .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
        .join(".");
    },
    decrypt(field, stored) {
      const [version, id, nonce, tag, body] = stored.split(".");
      if (
        version !== format ||
        id === undefined ||
        nonce === undefined ||
        tag === undefined ||
        body === undefined
      )
        throw new Error("not an encrypted value");
      const key = keys.get(id);
      if (key === undefined)
        throw new Error(`PII key ${id} is not configured (LEDGERFLOW_PII_KEYS_PREVIOUS)`);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64url"), {
        authTagLength: tagBytes,
      });
      decipher.setAAD(Buffer.from(field));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    },
    keyIdOf: (stored) => stored.split(".")[1],
  };
}
