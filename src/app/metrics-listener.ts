/**
 * The optional second listener for Prometheus (`LEDGERFLOW_METRICS_PORT`): `GET /metrics` without
 * authentication, bound to 127.0.0.1 only, so a scraper on the same host needs no access token while
 * nothing off the host can read the metrics. Everything else is a 404 problem.
 */
import Fastify, { type FastifyBaseLogger, LogController } from "fastify";
import type { Registry } from "prom-client";
import { installErrorHandler, problemFrameworkOptions } from "../platform/http/error-handler.ts";

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

export const metricsListenerHost = "127.0.0.1";

export async function startMetricsListener(options: {
  readonly registry: Registry;
  readonly port: number;
  readonly logger: FastifyBaseLogger;
}): Promise<MetricsListener> {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    ...problemFrameworkOptions,
  });
  installErrorHandler(app);
  app.get("/metrics", async (_request, reply) =>
    reply.type(options.registry.contentType).send(await options.registry.metrics()),
  );
  await app.listen({ host: metricsListenerHost, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { url: `http://${metricsListenerHost}:${port}`, close: () => app.close() };
}
