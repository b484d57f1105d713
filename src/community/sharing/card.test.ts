import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapeXml, shareCardSvg } from "./card.ts";

const facts = {
  officerName: "Officer Dana",
  citizenName: "Sam",
  kind: "in_person" as const,
  pointsEach: 10n,
  atMs: Date.UTC(2026, 11, 6, 21, 0),
};

describe("share card", () => {
  test("is deterministic and shows names, kind, points, date and branding", () => {
    const svg = shareCardSvg(facts);
    assert.equal(svg, shareCardSvg({ ...facts }));
    assert.equal(
      svg,
      [
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630" role="img" aria-label="Hey Blue! connection">',
        '<rect width="1200" height="630" fill="#0b3d91"/>',
        '<rect x="40" y="40" width="1120" height="550" rx="32" fill="#ffffff"/>',
        '<text x="90" y="140" font-family="sans-serif" font-size="64" font-weight="700" fill="#0b3d91">Hey Blue!</text>',
        '<text x="90" y="260" font-family="sans-serif" font-size="52" fill="#111827">Officer Dana</text>',
        '<text x="90" y="330" font-family="sans-serif" font-size="36" fill="#374151">and Sam met in person</text>',
        '<text x="90" y="420" font-family="sans-serif" font-size="44" font-weight="700" fill="#047857">+10 PTS each</text>',
        '<text x="90" y="540" font-family="sans-serif" font-size="28" fill="#6b7280">2026-12-06 · Ledgerflow community</text>',
        "</svg>",
      ].join("\n"),
    );
    assert.match(
      shareCardSvg({ ...facts, kind: "virtual", pointsEach: 3n }),
      /connected virtually[\s\S]*\+3 PTS each/,
    );
  });

  test("a display name carrying markup is escaped, never markup", () => {
    const evil = `</text><script>"x"</script>'&`;
    const svg = shareCardSvg({ ...facts, citizenName: evil, officerName: "<img src=x onerror=alert(1)>" });
    assert.doesNotMatch(svg, /<script|<img|onerror=alert\(1\)>/);
    assert.match(svg, /and &lt;\/text&gt;&lt;script&gt;&quot;x&quot;&lt;\/script&gt;&apos;&amp; met/);
    // Exactly the card's own elements: 8 element openings and the closing tag.
    assert.equal(svg.match(/<[a-z]/g)?.length, 8);
    assert.equal(escapeXml(`<>&"'`), "&lt;&gt;&amp;&quot;&apos;");
  });

  test("control characters are dropped and long names cut, so the XML stays well formed", () => {
    const svg = shareCardSvg({ ...facts, officerName: "A\u0000B\u001bC", citizenName: "x".repeat(100) });
    assert.match(svg, />ABC</);
    assert.match(shareCardSvg({ ...facts, officerName: "Dana\ud800\uffff" }), />Dana\ufffd</);
    assert.match(svg, new RegExp(`and ${"x".repeat(31)}… met in person`));
  });
});
