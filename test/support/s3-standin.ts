/**
 * A stand-in for S3 in tests: moto's server mode (scripts/services/s3-standin/venv.ts installs it
 * into .services/moto-venv; `.ci/run` does so before the tests) on 127.0.0.1 and a free port. It
 * speaks the S3 API; it is not AWS. Tests skip with `s3StandinSkip` when the venv is missing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { motoServerBin } from "../../scripts/services/s3-standin/venv.ts";
import { freePort, withRetries } from "./ports.ts";

const readyTimeoutMs = 30_000;
/** Credentials the stand-in accepts (it checks none unless asked to); never real ones. */
export const standinCredentials = { accessKeyId: "standin-access-key", secretAccessKey: "standin-secret" };

export function s3StandinSkip(what: string): false | string {
  return existsSync(motoServerBin)
    ? false
    : `the stand-in for S3 (moto) is not installed: run \`node scripts/services/s3-standin/venv.ts\`; ${what} skipped`;
}

export interface S3Standin {
  readonly endpoint: string;
  /** Creates the bucket if needed and puts `body` at `key`. */
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}) while starting`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`moto_server did not answer within ${readyTimeoutMs} ms`);
}

/**
 * Starts the stand-in. `authDenyingAfter` turns on its credential checks after that many requests
 * (moto's INITIAL_NO_AUTH_ACTION_COUNT), so later requests with unknown keys are refused (HTTP 403).
 */
export async function startS3Standin(options: { authDenyingAfter?: number } = {}): Promise<S3Standin> {
  return withRetries(3, async () => {
    const port = await freePort();
    const env = {
      ...process.env,
      ...(options.authDenyingAfter === undefined
        ? {}
        : { INITIAL_NO_AUTH_ACTION_COUNT: String(options.authDenyingAfter) }),
    };
    const child = spawn(motoServerBin, ["-H", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "ignore"],
      env,
    });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(endpoint, child);
    const client = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: standinCredentials,
    });
    const buckets = new Set<string>();
    return {
      endpoint,
      async put(bucket, key, body) {
        if (!buckets.has(bucket)) await client.send(new CreateBucketCommand({ Bucket: bucket }));
        buckets.add(bucket);
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      },
      async stop() {
        client.destroy();
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      },
    };
  });
}
