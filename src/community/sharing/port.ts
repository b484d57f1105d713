/**
 * The social-posting port (the seed's Social Media API Manager): where a shared connection is
 * announced. The webhook adapter posts signed JSON to URLs; a network's own client library (or a
 * Zapier-style relay) would be another adapter behind the same port.
 */

/** One place a share is posted to. `id` is stable and reveals nothing of the URL (a digest). */
export interface SocialTarget {
  readonly id: string;
  /** What participants are shown (a host name, never the full URL, which may hold a token). */
  readonly label: string;
}

export interface SocialPost {
  /** Unique per share and target: receivers drop a repeat (a retry after a lost answer). */
  readonly deliveryId: string;
  /** The JSON document posted (fixed when the share was made). */
  readonly body: string;
}

export type PostOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

export interface SocialPoster {
  readonly targets: readonly SocialTarget[];
  /** One attempt; never throws: a failure is an outcome, with a reason fit to show the participants. */
  post(targetId: string, post: SocialPost): Promise<PostOutcome>;
}

/** What a shared connection's posting says (the JSON body's shape). */
export interface SharedConnectionDocument {
  readonly type: "community.connection.shared";
  readonly connectionId: string;
  readonly officer: { readonly displayName: string };
  readonly citizen: { readonly displayName: string };
  readonly kind: "in_person" | "virtual";
  /** PTS each participant earned, a decimal string. */
  readonly pointsEach: string;
  readonly connectedAtMs: number;
  readonly sharedAtMs: number;
  readonly cardUrl: string;
}
