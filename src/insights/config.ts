/** The insights context's settings (`insights.*`, LEDGERFLOW_INSIGHTS_*). */
import { z } from "zod";
import { positiveInt } from "../platform/config.ts";
import type { ConfigSection } from "../platform/module.ts";

export const insightsConfig = {
  sections: {
    insights: z.object({
      /** Items per page when a request names no limit (each kind of GET /v1/clients/{id}). */
      pageSizeDefault: positiveInt.max(500).default(20),
      /** Largest page a request may ask for. */
      pageSizeMax: positiveInt.max(1_000).default(100),
      /** Outcomes a projection applies per transaction. */
      batchSizeMax: positiveInt.max(20_000).default(2_000),
      /** Records a rebuild reads per call to the log. */
      rebuildReadBatchMax: positiveInt.max(50_000).default(5_000),
      /** Swaps a rebuild tries before giving up (each first replays what the live projection got ahead by). */
      rebuildSwapAttemptsMax: positiveInt.max(100).default(10),
    }),
  },
  env: {
    LEDGERFLOW_INSIGHTS_PAGE_SIZE_DEFAULT: ["insights", "pageSizeDefault"],
    LEDGERFLOW_INSIGHTS_PAGE_SIZE_MAX: ["insights", "pageSizeMax"],
    LEDGERFLOW_INSIGHTS_BATCH_SIZE_MAX: ["insights", "batchSizeMax"],
    LEDGERFLOW_INSIGHTS_REBUILD_READ_BATCH_MAX: ["insights", "rebuildReadBatchMax"],
    LEDGERFLOW_INSIGHTS_REBUILD_SWAP_ATTEMPTS_MAX: ["insights", "rebuildSwapAttemptsMax"],
  },
} as const satisfies ConfigSection;

export type InsightsConfig = z.infer<typeof insightsConfig.sections.insights>;
