import assert from "node:assert/strict";
import { test } from "node:test";
import { compactNumber, niceCeiling, renderChart } from "./svg-chart.ts";

test("nice axis ceilings and compact labels", () => {
  assert.equal(niceCeiling(0), 1);
  assert.equal(niceCeiling(7), 10);
  assert.equal(niceCeiling(1_500), 2_000);
  assert.equal(niceCeiling(4_000), 5_000);
  assert.equal(niceCeiling(5_000), 5_000);
  assert.equal(compactNumber(2_500), "2.5k");
  assert.equal(compactNumber(1_000_000), "1M");
  assert.equal(compactNumber(12), "12");
});

test("renders a well-formed SVG with one polyline per series and escaped text", () => {
  const svg = renderChart(
    [
      {
        title: "HTTP <single>",
        points: [
          { offeredPerSec: 1_000, achievedPerSec: 990, p99Ms: 12 },
          { offeredPerSec: 2_000, achievedPerSec: 1_950, p99Ms: Number.NaN },
        ],
      },
      { title: "Batch", points: [] },
    ],
    "a & b",
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.match(svg, /HTTP &lt;single&gt;/);
  assert.match(svg, /a &amp; b/);
  assert.doesNotMatch(svg, /NaN/);
});
