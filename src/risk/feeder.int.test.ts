/**
 * The feeder's sources and its bad input, end to end on real PostgreSQL, a real loopback HTTP server
 * and a stand-in for S3 (moto's server mode, test/support/s3-standin.ts): every rejected load names
 * the source (and line), and the version in force stays.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { freePort } from "../../test/support/ports.ts";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import {
  type S3Standin,
  s3StandinSkip,
  standinCredentials,
  startS3Standin,
} from "../../test/support/s3-standin.ts";
import { moduleMigrations } from "../app/modules.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPostgresListStore } from "./adapters/postgres-lists.ts";
import { type FeedOptions, feedList, sourceOf } from "./feeder.ts";
import { ListFileError, type ListFormat } from "./list-file.ts";
import type { ListStore } from "./lists.ts";
import type { S3Settings } from "./s3-source.ts";

const gib = 1024 ** 3;
const mib = 1024 ** 2;
const limits = { bytesMax: 256 * mib, entriesMax: 1_000_000, lineBytesMax: 65_536 };
const goodList = "NL91ABNA0417164300\nJan de Vries\n";

let db: TestDatabase;
let store: ListStore;
let dir: string;
let lists = 0;

before(async () => {
  db = await startTestDatabase();
  await migrate(db.pool, moduleMigrations);
  store = createPostgresListStore(db.pool);
  dir = await mkdtemp(join(tmpdir(), "ledgerflow-feeder-"));
});
after(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

function feed(list: string, source: string, more: Partial<FeedOptions> & { format?: ListFormat } = {}) {
  return feedList(store, {
    list,
    source: sourceOf(source),
    format: "lines",
    limits,
    fetchTimeoutMs: 5_000,
    nowMs: () => 1_700_000_000_000,
    ...more,
  });
}

/** A list with version 1 in force (from a good file); returns its name. */
async function listInForce(): Promise<string> {
  const list = `bad-input-${++lists}`;
  const path = join(dir, `${list}-good.txt`);
  await writeFile(path, goodList);
  assert.equal((await feed(list, path)).version, 1);
  return list;
}

/** The load is refused with a ListFileError matching `message`, and version 1 stays in force. */
async function refused(list: string, load: Promise<unknown>, message: RegExp): Promise<ListFileError> {
  const error = await load.then(
    () => assert.fail("the load was accepted"),
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof ListFileError, String(error));
  assert.match(error.message, message);
  const current = await store.currentKeys(list);
  assert.deepEqual(
    [current.version, [...current.keys].sort()],
    [1, ["iban:NL91ABNA0417164300", "name:de jan vries"]],
  );
  return error;
}

async function fileWith(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe("feeder: bad files are refused whole, naming the source and line; the version in force stays", () => {
  test("an empty file", async () => {
    const list = await listInForce();
    const path = await fileWith("empty.txt", "");
    await refused(list, feed(list, path), /empty\.txt: the file has no entries/);
    const blank = await fileWith("blank.csv", "name,iban\n\n");
    await refused(list, feed(list, blank, { format: "csv" }), /blank\.csv: the file has no entries/);
  });

  test("a truncated file: a CSV cut inside a quoted field, a lines file cut inside an IBAN", async () => {
    const list = await listInForce();
    const csv = await fileWith("cut.csv", 'name,iban\nJan de Vries,NL91ABNA0417164300\n"Piet Jan');
    await refused(list, feed(list, csv, { format: "csv" }), /cut\.csv, line 3: Quote Not Closed/);
    const lines = await fileWith("cut.txt", "Jan de Vries\nNL91ABNA04171");
    await refused(list, feed(list, lines), /cut\.txt, line 2: "NL91ABNA04171" is not an IBAN/);
  });

  test("wrong encodings: Latin-1, UTF-16 with and without a byte order mark", async () => {
    const list = await listInForce();
    const latin1 = await fileWith("latin1.txt", Buffer.from("Jan de Vries\nJos\xe9 Garc\xeda\n", "latin1"));
    await refused(
      list,
      feed(list, latin1),
      /latin1\.txt, line 2: not UTF-8 \(Latin-1 or another encoding\?\)/,
    );
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("Jan de Vries\nPiet\n", "utf16le")]);
    await refused(list, feed(list, await fileWith("utf16.txt", utf16)), /utf16\.txt, line 1: UTF-16/);
    const bare = await fileWith("utf16-no-bom.txt", Buffer.from("Jan de Vries\n", "utf16le"));
    await refused(list, feed(list, bare), /utf16-no-bom\.txt, line 1: NUL bytes/);
  });

  test("duplicate entries: refused in lines and CSV files (naming both lines); OFAC's are dropped and counted", async () => {
    const list = await listInForce();
    const lines = await fileWith("dup.txt", "Jan de Vries\nNL91ABNA0417164300\nVRIES, Jan de\n");
    await refused(list, feed(list, lines), /dup\.txt, line 3: duplicate of line 1/);
    const csv = await fileWith("dup.csv", "iban\nNL91ABNA0417164300\nnl91 abna 0417 1643 00\n");
    await refused(list, feed(list, csv, { format: "csv" }), /dup\.csv, line 3: duplicate of line 2/);
    const sdn = await fileWith(
      "sdn.csv",
      '36,"JAN DE VRIES",-0- ,"CUBA"\n37,"Vries, Jan de",-0- ,"CUBA"\n38,"PIET JANSEN",-0- ,"CUBA"\n',
    );
    const report = await feed(list, sdn, { format: "ofac" });
    assert.deepEqual([report.version, report.entries, report.duplicates], [2, 2, 1]);
  });
});

describe("feeder: a 1 GiB file is refused by fileBytesMax without being read", () => {
  test("a sparse 1 GiB file on disk: refused from its size", async () => {
    const list = await listInForce();
    const path = join(dir, "huge.txt");
    const file = await open(path, "w");
    await file.truncate(gib); // sparse: no 1 GiB written to the disk
    await file.close();
    await refused(
      list,
      feed(list, path),
      /huge\.txt: the file is larger than 268435456 bytes \(1073741824\)/,
    );
  });

  /** A loopback server sending a generated 1 GiB body (comment lines), counting what it wrote. */
  async function hugeBodyServer(announceLength: boolean) {
    const sent = { bytes: 0 };
    const chunk = Buffer.from(`# ${"x".repeat(1021)}\n`.repeat(64)); // 64 KiB of comment lines
    const server = createServer((_request, response: ServerResponse) => {
      response.writeHead(200, announceLength ? { "content-length": String(gib) } : {});
      const pump = () => {
        while (sent.bytes < gib && !response.destroyed) {
          sent.bytes += chunk.length;
          if (!response.write(chunk)) return void response.once("drain", pump);
        }
        response.end();
      };
      response.on("close", () => response.destroy());
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return { url: `http://127.0.0.1:${port}/huge.txt`, sent, server };
  }

  const close = (server: Server) => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };

  test("over HTTP with its length announced: refused before the body is read", async () => {
    const list = await listInForce();
    const { url, sent, server } = await hugeBodyServer(true);
    try {
      await refused(
        list,
        feed(list, url),
        /huge\.txt: the file is larger than 268435456 bytes \(1073741824\)/,
      );
      assert.ok(sent.bytes < 64 * mib, `the server sent ${sent.bytes} bytes`);
    } finally {
      await close(server);
    }
  });

  test("over HTTP, chunked (no length): refused once fileBytesMax bytes have arrived, the rest never read", async () => {
    const list = await listInForce();
    const { url, sent, server } = await hugeBodyServer(false);
    const bytesMax = 16 * mib;
    try {
      await refused(
        list,
        feed(list, url, { limits: { ...limits, bytesMax } }),
        new RegExp(`huge\\.txt: the file is larger than ${bytesMax} bytes`),
      );
      // What was sent beyond the limit is only what the sockets' buffers held.
      assert.ok(sent.bytes < bytesMax + 32 * mib, `the server sent ${sent.bytes} bytes of ${gib}`);
    } finally {
      await close(server);
    }
  });
});

describe("feeder: S3 (a stand-in for S3: moto's server)", {
  skip: s3StandinSkip("the S3 feeder tests"),
}, () => {
  let s3: S3Standin;
  let settings: S3Settings;
  const saved = { ...process.env };

  before(async () => {
    s3 = await startS3Standin();
    settings = { endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, attemptsMax: 2 };
    // The SDK's standard credential chain reads these (no real credentials anywhere).
    process.env.AWS_ACCESS_KEY_ID = standinCredentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = standinCredentials.secretAccessKey;
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    await s3.put("lists", "fraud/sdn.csv", '36,"JAN DE VRIES",-0- ,"CUBA"\n38,"PIET JANSEN",-0- ,"CUBA"\n');
    await s3.put("lists", "fraud/latin1.txt", Buffer.from("Jan de Vries\nJos\xe9\n", "latin1"));
  });
  after(async () => {
    process.env = saved;
    await s3?.stop();
  });

  test("loads s3://bucket/key streamed through the same reader (format from the key's name)", async () => {
    const list = await listInForce();
    const report = await feed(list, "s3://lists/fraud/sdn.csv", { s3: settings, format: "ofac" });
    assert.deepEqual([report.version, report.added, report.removed, report.unchanged], [2, 1, 1, 1]);
    const info = (await store.versions()).find((v) => v.list === list);
    assert.equal(info?.source, "s3://lists/fraud/sdn.csv");
  });

  test("a bad file in S3 names the object and line", async () => {
    const list = await listInForce();
    await refused(
      list,
      feed(list, "s3://lists/fraud/latin1.txt", { s3: settings }),
      /s3:\/\/lists\/fraud\/latin1\.txt, line 2: not UTF-8/,
    );
  });

  test("missing bucket, missing key", async () => {
    const list = await listInForce();
    await refused(
      list,
      feed(list, "s3://nobucket/fraud.txt", { s3: settings }),
      /cannot read s3:\/\/nobucket\/fraud\.txt: the bucket does not exist \(HTTP 404 NoSuchBucket\)/,
    );
    await refused(
      list,
      feed(list, "s3://lists/missing.txt", { s3: settings }),
      /cannot read s3:\/\/lists\/missing\.txt: no such key in the bucket/,
    );
  });

  test("unreachable endpoint, and one that never answers (timeout)", async () => {
    const list = await listInForce();
    const closed = `http://127.0.0.1:${await freePort()}`;
    await refused(
      list,
      feed(list, "s3://lists/fraud/sdn.csv", { s3: { ...settings, endpoint: closed } }),
      /cannot read s3:\/\/lists\/fraud\/sdn\.csv: the S3 endpoint is unreachable \(ECONNREFUSED\)/,
    );
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    try {
      await refused(
        list,
        feed(list, "s3://lists/fraud/sdn.csv", { s3: { ...settings, endpoint }, fetchTimeoutMs: 500 }),
        /cannot read s3:\/\/lists\/fraud\/sdn\.csv: no answer within 500 ms/,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test("access denied: the server refuses the credentials (HTTP 403)", async () => {
    const list = await listInForce();
    // A second stand-in checking credentials after the 2 set-up requests: the feeder's key is unknown.
    const checking = await startS3Standin({ authDenyingAfter: 2 });
    try {
      await checking.put("private", "fraud.txt", goodList);
      await refused(
        list,
        feed(list, "s3://private/fraud.txt", { s3: { ...settings, endpoint: checking.endpoint } }),
        /cannot read s3:\/\/private\/fraud\.txt: access denied.*\(HTTP 403 /,
      );
    } finally {
      await checking.stop();
    }
  });

  test("`ledgerflow feeder --s3`: loads with the endpoint from LEDGERFLOW_RISK_S3_ENDPOINT; a refused load exits 1", async () => {
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [join(import.meta.dirname, "..", "main.ts"), "feeder", ...args], {
        env: {
          ...process.env,
          LEDGERFLOW_DATABASE_URL: db.url,
          LEDGERFLOW_RISK_S3_ENDPOINT: s3.endpoint,
          LEDGERFLOW_RISK_S3_ATTEMPTS_MAX: "1",
          NO_COLOR: "1",
        },
      }).then(
        (done) => ({ code: 0, ...done }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    const loaded = await run(["--s3", "s3://lists/fraud/sdn.csv", "--list", "cli-s3"]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /list cli-s3: version 1 in force \(was 0\); 2 entries: 2 added/);
    const missing = await run(["--s3", "s3://lists/nothing.txt", "--list", "cli-s3"]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /list cli-s3 not loaded: cannot read s3:\/\/lists\/nothing\.txt: no such key in the bucket .*; the version in force stays/,
    );
    assert.equal((await run(["--s3", "lists/fraud.txt"])).code, 2);
  });
});
