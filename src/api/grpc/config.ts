/**
 * The gRPC edge's settings (`grpc` section of the one configuration schema). The server is off
 * unless a port is set; port 0 takes a free port (tests). It runs only where HTTP is served.
 */
import { z } from "zod";
import { port, positiveInt } from "../../platform/config.ts";
import type { ConfigSection } from "../../platform/module.ts";

export const grpcConfig = {
  sections: {
    grpc: z.object({
      /** Unset: no gRPC server. 0: a free port (the running platform reports it). */
      port: port.optional(),
      host: z.string().default("127.0.0.1"),
      /** Largest message received or sent. */
      messageBytesMax: positiveInt.max(64 * 1024 * 1024).default(1024 * 1024),
      /** Calls in flight on one HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
      streamsPerConnectionMax: positiveInt.max(10_000).default(100),
      /** Open WatchClient streams per process; beyond, RESOURCE_EXHAUSTED. */
      watchStreamsMax: positiveInt.max(1_000_000).default(10_000),
      /** Events one WatchClient stream may have unsent before it ends with rate_limited. */
      watchBufferedMax: positiveInt.max(100_000).default(1_000),
      /** On shutdown, calls in flight get this long before they are cut. */
      shutdownGraceMs: positiveInt.max(60_000).default(2_000),
    }),
  },
  env: {
    LEDGERFLOW_GRPC_PORT: ["grpc", "port"],
    LEDGERFLOW_GRPC_HOST: ["grpc", "host"],
    LEDGERFLOW_GRPC_MESSAGE_BYTES_MAX: ["grpc", "messageBytesMax"],
    LEDGERFLOW_GRPC_STREAMS_PER_CONNECTION_MAX: ["grpc", "streamsPerConnectionMax"],
    LEDGERFLOW_GRPC_WATCH_STREAMS_MAX: ["grpc", "watchStreamsMax"],
    LEDGERFLOW_GRPC_WATCH_BUFFERED_MAX: ["grpc", "watchBufferedMax"],
  },
} as const satisfies ConfigSection;

export type GrpcConfig = z.infer<typeof grpcConfig.sections.grpc>;
