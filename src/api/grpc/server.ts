/**
 * The gRPC edge: LedgerService and ClientService of proto/ledgerflow/v1 beside REST and GraphQL,
 * plus server reflection and the standard health service. Writes go through the ledger's command
 * service (the one REST and GraphQL call) after the same input schemas (ledger/inputs.ts), and every
 * error leaves through `toGrpcStatus`. Started by the composition root where HTTP is served, when
 * `grpc.port` is set.
 */
import { join } from "node:path";
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import type pino from "pino";
import type { InsightsApi } from "../../insights/index.ts";
import type { LedgerApi } from "../../ledger/index.ts";
import type { VerifyToken } from "../../platform/http/auth.ts";
import type { EdgeContext } from "./call.ts";
import { clientServiceHandlers, watchClient } from "./client-service.ts";
import type { GrpcConfig } from "./config.ts";
import { protoDir, toGrpcStatus } from "./errors.ts";
import { ledgerServiceHandlers } from "./ledger-service.ts";
import { createClientWatchHub } from "./watch.ts";

export interface GrpcEdgeDeps {
  readonly config: GrpcConfig;
  readonly ledger: LedgerApi;
  /** A client's data (the insights context's per-client queries, access decided inside). */
  readonly insights: Pick<InsightsApi, "clients">;
  readonly verifyToken: VerifyToken;
  readonly logger: pino.Logger;
  /** Whether the platform can serve (its database answers): the health service's answer. */
  readonly ready: () => Promise<boolean>;
}

export interface StartedGrpcServer {
  /** host:port the server listens on. */
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * The API's files; google.rpc's are loaded too so that reflection can describe the error details a
 * client finds in grpc-status-details-bin (grpcurl prints them then).
 */
export const protoFiles = [
  "ledgerflow/v1/ledger.proto",
  "ledgerflow/v1/clients.proto",
  "grpc/health/v1/health.proto",
  "google/rpc/status.proto",
  "google/rpc/error_details.proto",
];

/** The loader options every side uses (server, tests, README): field names as written in the files. */
export const protoLoaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [protoDir],
};

export function loadLedgerflowProtos() {
  return loadSync(
    protoFiles.map((file) => join(protoDir, file)),
    protoLoaderOptions,
  );
}

export async function startGrpcServer(deps: GrpcEdgeDeps): Promise<StartedGrpcServer> {
  const { config } = deps;
  const log = deps.logger.child({ component: "grpc" });
  const definition = loadLedgerflowProtos();
  const loaded = loadPackageDefinition(definition) as unknown as GrpcPackages;
  const server = new Server({
    "grpc.max_receive_message_length": config.messageBytesMax,
    "grpc.max_send_message_length": config.messageBytesMax,
    "grpc.max_concurrent_streams": config.streamsPerConnectionMax,
  });
  const onInternal = (cause: unknown) => log.error({ err: cause }, "grpc call failed");
  const edge: EdgeContext = {
    ledger: deps.ledger,
    insights: deps.insights,
    verifyToken: deps.verifyToken,
    config,
    onInternal,
    watchHub: createClientWatchHub(deps.ledger, {
      queuedMax: config.watchBufferedMax * 10,
      onError: onInternal,
    }),
  };
  server.addService(loaded.ledgerflow.v1.LedgerService.service, ledgerServiceHandlers(edge));
  server.addService(loaded.ledgerflow.v1.ClientService.service, {
    ...clientServiceHandlers(edge),
    WatchClient: watchClient(edge),
  });
  server.addService(loaded.grpc.health.v1.Health.service, healthHandlers(deps.ready, onInternal));
  new ReflectionService(definition).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${config.host}:${config.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  const address = `${config.host}:${port}`;
  log.info({ address }, "gRPC server listening");
  return { address, stop: () => shutdown(server, config.shutdownGraceMs) };
}

interface GrpcPackages {
  ledgerflow: {
    v1: { LedgerService: { service: ServiceDefinition }; ClientService: { service: ServiceDefinition } };
  };
  grpc: { health: { v1: { Health: { service: ServiceDefinition } } } };
}

/** Calls in flight finish within the grace period; then the rest are cut. */
function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

type HealthRequest = { service?: string };
type HealthResponse = { status: "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN" };

const healthServices = new Set(["", "ledgerflow.v1.LedgerService", "ledgerflow.v1.ClientService"]);

/** grpc.health.v1: SERVING while the database answers; Watch sends the current status once. */
function healthHandlers(ready: () => Promise<boolean>, onInternal: (cause: unknown) => void) {
  const statusOf = async (service: string | undefined): Promise<HealthResponse> => {
    if (!healthServices.has(service ?? "")) return { status: "SERVICE_UNKNOWN" };
    const up = await ready().catch(() => false);
    return { status: up ? "SERVING" : "NOT_SERVING" };
  };
  const check: handleUnaryCall<HealthRequest, HealthResponse> = (call, callback) => {
    statusOf(call.request.service).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcStatus(error, onInternal)),
    );
  };
  const watch: handleServerStreamingCall<HealthRequest, HealthResponse> = (call) => {
    statusOf(call.request.service).then(
      (response) => call.write(response),
      (error: unknown) => call.emit("error", toGrpcStatus(error, onInternal)),
    );
  };
  return { Check: check, Watch: watch };
}
