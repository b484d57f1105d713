/** Sources of the feeder from an operator's text, and S3 failures in words (no I/O). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { loadConfig } from "../app/config.ts";
import { describeSource, formatOf, sourceOf } from "./feeder.ts";
import { ListFileError } from "./list-file.ts";
import { s3FailureOf } from "./s3-source.ts";

describe("feeder sources", () => {
  test("s3://bucket/key is an S3 source (the scheduled feeder's too), its format from the key", () => {
    const source = sourceOf("s3://compliance-lists/ofac/sdn.csv");
    assert.deepEqual(source, { kind: "s3", bucket: "compliance-lists", key: "ofac/sdn.csv" });
    assert.equal(describeSource(source), "s3://compliance-lists/ofac/sdn.csv");
    assert.equal(formatOf(source), "ofac");
    assert.equal(formatOf(sourceOf("s3://lists/fraud.txt")), "lines");
    assert.throws(() => sourceOf("s3://lists"), ListFileError);
    assert.deepEqual(sourceOf("https://example.org/x.csv?sig=secret").kind, "url");
    assert.equal(
      describeSource(sourceOf("https://u:p@example.org/x.csv?sig=secret")),
      "https://example.org/x.csv",
    );
  });

  test("config: LEDGERFLOW_RISK_FEED_SOURCE accepts s3://bucket/key and refuses a bucket without a key", () => {
    const config = loadConfig({
      LEDGERFLOW_RISK_FEED_SOURCE: "s3://lists/fraud.txt",
      LEDGERFLOW_RISK_S3_ENDPOINT: "http://127.0.0.1:9000",
    });
    assert.equal(config.risk.feedSource, "s3://lists/fraud.txt");
    assert.equal(config.risk.s3Endpoint, "http://127.0.0.1:9000");
    assert.throws(() => loadConfig({ LEDGERFLOW_RISK_FEED_SOURCE: "s3://lists" }), /s3:\/\/bucket\/key/);
  });

  test("S3 failures in words: denied, missing, unreachable, timed out", () => {
    const answer = (name: string, status: number) =>
      new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status } });
    assert.equal(s3FailureOf(answer("AccessDenied", 403), 1_000), "access denied (HTTP 403 AccessDenied)");
    assert.equal(s3FailureOf(answer("Forbidden", 403), 1_000), "access denied (HTTP 403 Forbidden)");
    assert.equal(
      s3FailureOf(answer("NoSuchBucket", 404), 1_000),
      "the bucket does not exist (HTTP 404 NoSuchBucket)",
    );
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    assert.equal(s3FailureOf(refused, 1_000), "the S3 endpoint is unreachable (ECONNREFUSED)");
    assert.equal(
      s3FailureOf(Object.assign(new Error("x"), { name: "TimeoutError" }), 500),
      "no answer within 500 ms",
    );
  });
});
