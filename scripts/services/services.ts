import type { ServiceName } from "./config.ts";
import { kafkaService } from "./kafka/service.ts";
import { postgresService } from "./postgres/service.ts";
import { redisService } from "./redis/service.ts";
import { schemaRegistryService } from "./schema-registry/service.ts";
import type { Service } from "./service.ts";

export const services: Readonly<Record<ServiceName, Service>> = {
  postgres: postgresService,
  redis: redisService,
  kafka: kafkaService,
  "schema-registry": schemaRegistryService,
};
