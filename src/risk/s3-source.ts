/**
 * The feeder's S3 source: `s3://bucket/key` read with AWS SDK v3 `GetObject`, its body streamed into
 * the same line reader as files and URLs (never held whole). Region, endpoint and path-style come
 * from the risk config; credentials from the SDK's standard chain (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE, instance roles): none are in Ledgerflow's
 * config or logs. Every failure becomes a ListFileError naming the object, so the load is refused
 * and the version in force stays.
 */
import { GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { ListFileError } from "./list-file.ts";

export interface S3Settings {
  /** Unset: the SDK's own (AWS_REGION, the profile), or us-east-1 with a custom endpoint. */
  readonly region?: string | undefined;
  /** An S3-compatible server (MinIO, a stand-in for S3 in tests); AWS's own endpoint when unset. */
  readonly endpoint?: string | undefined;
  /** `host/bucket/key` addressing; forced with a custom endpoint (most S3-compatible servers want it). */
  readonly forcePathStyle: boolean;
  /** SDK attempts per request (the first included), for throttling and dropped connections. */
  readonly attemptsMax: number;
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** `s3://bucket/key/with/slashes` → bucket and key; undefined when the text is not one. */
export function s3LocationOf(text: string): S3Location | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(text);
  return match ? { bucket: match[1] ?? "", key: match[2] ?? "" } : undefined;
}

export function describeS3(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

const reasons: Readonly<Record<string, string>> = {
  NoSuchBucket: "the bucket does not exist",
  NoSuchKey: "no such key in the bucket",
  NotFound: "no such key in the bucket",
  AccessDenied: "access denied",
  InvalidAccessKeyId: "access denied (the access key is not known to the server)",
  SignatureDoesNotMatch: "access denied (the secret key does not match)",
  ExpiredToken: "access denied (the session token has expired)",
};

/** Why reading the object failed, in words an operator can act on (no credentials in it). */
export function s3FailureOf(error: unknown, timeoutMs: number): string {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    const reason =
      reasons[error.name] ?? (status === 403 ? "access denied" : status === 404 ? "not found" : error.name);
    return `${reason} (HTTP ${status ?? "?"} ${error.name})`;
  }
  const failure = error as NodeJS.ErrnoException;
  if (failure.name === "AbortError" || failure.name === "TimeoutError")
    return `no answer within ${timeoutMs} ms`;
  const code = failure.code ?? (failure.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ECONNRESET")
    return `the S3 endpoint is unreachable (${code})`;
  return failure.message ?? String(error);
}

export function createS3Client(settings: S3Settings, timeoutMs: number): S3Client {
  return new S3Client({
    ...(settings.region || settings.endpoint ? { region: settings.region ?? "us-east-1" } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle || settings.endpoint !== undefined,
    maxAttempts: settings.attemptsMax,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
}

/** The object's body as a byte stream; refuses at once an object larger than `bytesMax`. */
export async function openS3Object(
  location: S3Location,
  settings: S3Settings,
  options: { readonly bytesMax: number; readonly timeoutMs: number },
): Promise<AsyncIterable<Uint8Array>> {
  const client = createS3Client(settings, options.timeoutMs);
  const where = describeS3(location);
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), {
      abortSignal: AbortSignal.timeout(options.timeoutMs),
    });
    const length = response.ContentLength ?? 0;
    const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (!body) throw new ListFileError(`cannot read ${where}: the object has no body`);
    if (length > options.bytesMax) {
      body.destroy?.();
      throw new ListFileError(`${where}: the file is larger than ${options.bytesMax} bytes (${length})`);
    }
    return closingWith(body, () => client.destroy(), where, options.timeoutMs);
  } catch (error) {
    client.destroy();
    if (error instanceof ListFileError) throw error;
    throw new ListFileError(`cannot read ${where}: ${s3FailureOf(error, options.timeoutMs)}`);
  }
}

/** The body, with the client closed when reading ends and a failure mid-body named as the object's. */
async function* closingWith(
  body: AsyncIterable<Uint8Array>,
  close: () => void,
  where: string,
  timeoutMs: number,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (error) {
    if (error instanceof ListFileError) throw error;
    throw new ListFileError(`reading ${where} failed: ${s3FailureOf(error, timeoutMs)}`);
  } finally {
    close();
  }
}
