import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../../test/support/ports.ts";
import { manualClock } from "../../platform/clock.ts";
import { createRedisRevocations } from "./redis-revocations.ts";

const redisServerPath = "/usr/bin/redis-server";
const skip = existsSync(redisServerPath)
  ? false
  : `${redisServerPath} is missing: Redis revocation tests skipped`;

describe("session revocations through Redis pub/sub (distributed mode)", { skip }, () => {
  let dir: string;
  let url: string;
  let stopServer: () => Promise<void>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ledgerflow-revocations-"));
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ];
    const child = spawn(redisServerPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${output}`)));
    });
    stopServer = async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    };
  });
  after(async () => {
    await stopServer?.();
    await rm(dir, { recursive: true, force: true });
  });

  test("a session revoked on one API instance is refused by every other at once, until its tokens expire", async () => {
    const clock = manualClock(1_000_000);
    const keepMs = 905_000;
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => createRedisRevocations(clock, { url, keepMs })));
    assert.ok(a && b && c);
    try {
      await Promise.all([a.ready, b.ready, c.ready]);
      await a.revoke("session-1");
      assert.equal(a.isRevoked("session-1"), true, "at once where it was revoked");
      const deadlineMs = Date.now() + 2_000;
      while (!(b.isRevoked("session-1") && c.isRevoked("session-1")) && Date.now() < deadlineMs)
        await sleep(2);
      assert.equal(b.isRevoked("session-1"), true);
      assert.equal(c.isRevoked("session-1"), true);
      assert.equal(b.isRevoked("session-2"), false);
      clock.advance(keepMs);
      assert.equal(b.isRevoked("session-1"), false, "forgotten once no access token of it can be valid");
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
