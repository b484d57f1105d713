import assert from "node:assert/strict";
import { test } from "node:test";
import { shownPosition } from "./service.ts";

test("a citizen sees an officer's position rounded to 4 decimal places (about 11 m), never the exact one", () => {
  assert.deepEqual(shownPosition({ lat: 52.370_049_9, lon: 4.890_061_2 }), { lat: 52.37, lon: 4.8901 });
  assert.deepEqual(shownPosition({ lat: -33.868_85, lon: 151.209_29 }), { lat: -33.8688, lon: 151.2093 });
  // Never farther from the exact position than half a step in each direction.
  for (let i = 0; i < 1_000; i++) {
    const exact = { lat: -89 + (i * 178) / 999 + 1e-7 * i, lon: -179 + (i * 358) / 999 + 3e-7 * i };
    const shown = shownPosition(exact);
    assert.ok(Math.abs(shown.lat - exact.lat) <= 0.000_05 + 1e-12);
    assert.ok(Math.abs(shown.lon - exact.lon) <= 0.000_05 + 1e-12);
  }
});
