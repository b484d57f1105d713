/**
 * The share card of a connection: an SVG image (1200×630, the size social networks preview) with
 * both participants' public display names, the kind, the points each earned, the date and the
 * programme's branding. Never coordinates or the H3 cell. Pure and deterministic: the same
 * connection and names give the same bytes. Every user-supplied text is XML-escaped.
 */

export interface CardFacts {
  readonly officerName: string;
  readonly citizenName: string;
  readonly kind: "in_person" | "virtual";
  /** PTS each participant earned (integer). */
  readonly pointsEach: bigint;
  readonly atMs: number;
}

export const cardMediaType = "image/svg+xml";

/** Display names longer than this are cut (with an ellipsis) so the card's layout holds. */
const nameCharsMax = 32;

/** Escapes text for XML character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
  );
}

/** XML 1.0 cannot carry C0 controls (but tab, newline, return) nor U+FFFE/U+FFFF at all. */
const xmlCharacter = (c: string) => {
  const code = c.codePointAt(0) ?? 0;
  return (
    (code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) && code !== 0xfffe && code !== 0xffff
  );
};

/** Drops what XML cannot carry (lone surrogates become U+FFFD), then cuts a long name. */
function printable(name: string): string {
  const chars = [...name.toWellFormed()].filter(xmlCharacter);
  const clean = chars.join("").trim();
  const kept = [...clean];
  return kept.length > nameCharsMax ? `${kept.slice(0, nameCharsMax - 1).join("")}…` : clean;
}

const dateOf = (atMs: number) => new Date(atMs).toISOString().slice(0, 10);

export function shareCardSvg(facts: CardFacts): string {
  const officer = escapeXml(printable(facts.officerName) || "An officer");
  const citizen = escapeXml(printable(facts.citizenName) || "A citizen");
  const kind = facts.kind === "in_person" ? "met in person" : "connected virtually";
  const points = `+${facts.pointsEach.toString()} PTS each`;
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630" role="img" aria-label="Hey Blue! connection">',
    '<rect width="1200" height="630" fill="#0b3d91"/>',
    '<rect x="40" y="40" width="1120" height="550" rx="32" fill="#ffffff"/>',
    '<text x="90" y="140" font-family="sans-serif" font-size="64" font-weight="700" fill="#0b3d91">Hey Blue!</text>',
    `<text x="90" y="260" font-family="sans-serif" font-size="52" fill="#111827">${officer}</text>`,
    `<text x="90" y="330" font-family="sans-serif" font-size="36" fill="#374151">and ${citizen} ${kind}</text>`,
    `<text x="90" y="420" font-family="sans-serif" font-size="44" font-weight="700" fill="#047857">${points}</text>`,
    `<text x="90" y="540" font-family="sans-serif" font-size="28" fill="#6b7280">${dateOf(facts.atMs)} · Ledgerflow community</text>`,
    "</svg>",
  ].join("\n");
}
