/**
 * The webhook adapter of the social-posting port: one POST of the share's JSON to each configured
 * URL, signed with HMAC-SHA256 (`x-ledgerflow-signature: t=<ms>,v1=<hex>` over `<t>.<body>`, as the payments alerts sign, so a
 * receiver can refuse an old replay), bounded by a timeout. The URLs and the secret are never
 * logged or stored; a target is known by a digest of its URL and shown by its host.
 */
import { createHash, createHmac } from "node:crypto";
import type { PostOutcome, SocialPost, SocialPoster, SocialTarget } from "../port.ts";

export interface WebhookPosterOptions {
  readonly urls: readonly string[];
  readonly secret: string;
  readonly timeoutMs: number;
  readonly nowMs: () => number;
}

export const signatureHeader = "x-ledgerflow-signature";
export const deliveryHeader = "x-ledgerflow-delivery";

export function signature(secret: string, timestampMs: number, body: string): string {
  const mac = createHmac("sha256", secret).update(`${timestampMs}.${body}`).digest("hex");
  return `t=${timestampMs},v1=${mac}`;
}

export const targetIdOf = (url: string) => createHash("sha256").update(url).digest("hex").slice(0, 32);

export function createWebhookPoster(options: WebhookPosterOptions): SocialPoster {
  const byId = new Map(options.urls.map((url) => [targetIdOf(url), url]));
  const targets: SocialTarget[] = [...byId].map(([id, url]) => ({ id, label: new URL(url).host }));
  return {
    targets,
    async post(targetId: string, post: SocialPost): Promise<PostOutcome> {
      const url = byId.get(targetId);
      if (url === undefined) return { ok: false, error: "target no longer configured" };
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [signatureHeader]: signature(options.secret, options.nowMs(), post.body),
            [deliveryHeader]: post.deliveryId,
          },
          body: post.body,
          redirect: "manual",
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        await response.body?.cancel();
        return response.ok ? { ok: true } : { ok: false, error: `HTTP ${response.status}` };
      } catch (error) {
        const name = (error as Error).name;
        return { ok: false, error: name === "TimeoutError" ? "timed out" : "unreachable" };
      }
    },
  };
}
