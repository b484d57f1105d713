/**
 * gRPC errors speak the problem registry's language (platform/http/problems.ts): each problem's HTTP
 * status maps to a gRPC status code, and the stable `code` and `field` travel in trailing metadata
 * (`ledgerflow-code`, `ledgerflow-field`) and in `grpc-status-details-bin` as a google.rpc.Status with
 * an ErrorInfo (and a BadRequest for bad input), the richer error model gRPC clients decode.
 * Anything we did not mean to say becomes INTERNAL with a fixed message: no stack, no internal text.
 */
import { join } from "node:path";
import { Metadata, type StatusObject, status } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { InfrastructureError } from "../../platform/errors.ts";
import { type Problem, ProblemError, problem } from "../../platform/http/problems.ts";

export const protoDir = join(import.meta.dirname, "..", "..", "..", "proto");
export const errorDomain = "ledgerflow.dev";

/** gRPC status per HTTP status of the registry (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const codeByHttpStatus: Readonly<Record<number, status>> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  405: status.UNIMPLEMENTED,
  // A used id with a different request: the id exists already.
  409: status.ALREADY_EXISTS,
  413: status.RESOURCE_EXHAUSTED,
  415: status.INVALID_ARGUMENT,
  // The request is well-formed but the system's state refuses it (e.g. system_account).
  422: status.FAILED_PRECONDITION,
  429: status.RESOURCE_EXHAUSTED,
  500: status.INTERNAL,
  503: status.UNAVAILABLE,
};

export function grpcCodeOf(problemStatus: number): status {
  return codeByHttpStatus[problemStatus] ?? (problemStatus >= 500 ? status.INTERNAL : status.UNKNOWN);
}

// keepCase: field names as in the .proto files (field_violations), as proto-loader is told too.
const richErrors = new protobuf.Root().loadSync(
  [join(protoDir, "google", "rpc", "status.proto"), join(protoDir, "google", "rpc", "error_details.proto")],
  { keepCase: true },
);
const StatusType = richErrors.lookupType("google.rpc.Status");
const ErrorInfoType = richErrors.lookupType("google.rpc.ErrorInfo");
const BadRequestType = richErrors.lookupType("google.rpc.BadRequest");

function any(type: protobuf.Type, value: Record<string, unknown>) {
  return {
    type_url: `type.googleapis.com/${type.fullName.replace(/^\./, "")}`,
    value: type.encode(type.fromObject(value)).finish(),
  };
}

/** The status a call ends with for `body`, with the problem's code and field in its trailers. */
export function grpcStatusOf(body: Problem): StatusObject {
  const code = grpcCodeOf(body.status);
  const message = body.detail ?? body.title;
  const metadata = new Metadata();
  metadata.set("ledgerflow-code", body.code);
  if (body.field !== undefined) metadata.set("ledgerflow-field", body.field);
  const details = [
    any(ErrorInfoType, {
      reason: body.code,
      domain: errorDomain,
      metadata: body.field === undefined ? {} : { field: body.field },
    }),
  ];
  if (code === status.INVALID_ARGUMENT && body.field !== undefined)
    details.push(any(BadRequestType, { field_violations: [{ field: body.field, description: message }] }));
  const rich = StatusType.fromObject({ code, message, details });
  metadata.set("grpc-status-details-bin", Buffer.from(StatusType.encode(rich).finish()));
  return { code, details: message, metadata };
}

/**
 * What the client learns of `error`. `onInternal` receives unexpected failures (to log them with their
 * stack); the client only learns that something went wrong.
 */
export function toGrpcStatus(error: unknown, onInternal: (cause: unknown) => void): StatusObject {
  if (error instanceof ProblemError) return grpcStatusOf(error.problem);
  if (error instanceof InfrastructureError && error.code === "unavailable")
    return grpcStatusOf(problem("unavailable", { extra: { retryAfterS: 1 } }));
  onInternal(error);
  return grpcStatusOf(problem("internal"));
}

/** Decodes `grpc-status-details-bin` (for clients and tests). */
export function decodeStatusDetails(bytes: Buffer): {
  code: number;
  message: string;
  errorInfo?: { reason: string; domain: string; metadata: Record<string, string> };
  badRequest?: { field_violations: { field: string; description: string }[] };
} {
  const decoded = StatusType.toObject(StatusType.decode(bytes), { defaults: true }) as {
    code: number;
    message: string;
    details: { type_url: string; value: Uint8Array }[];
  };
  const result: ReturnType<typeof decodeStatusDetails> = { code: decoded.code, message: decoded.message };
  for (const detail of decoded.details) {
    if (detail.type_url.endsWith("/google.rpc.ErrorInfo"))
      result.errorInfo = ErrorInfoType.toObject(ErrorInfoType.decode(detail.value), {
        defaults: true,
      }) as NonNullable<typeof result.errorInfo>;
    if (detail.type_url.endsWith("/google.rpc.BadRequest"))
      result.badRequest = BadRequestType.toObject(BadRequestType.decode(detail.value), {
        defaults: true,
      }) as NonNullable<typeof result.badRequest>;
  }
  return result;
}
