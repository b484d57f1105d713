/**
 * Ledgerflow's boundaries, checked in `npm test` (npm run check:deps). docs/architecture.md explains
 * them. A context is a folder under src/ that exports a module from its index.ts (its only door).
 */
const contexts = "(ledger|payments|tokens|identity)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "context-only-through-index",
      comment:
        "Code outside a context uses it only through its index.ts (commands, queries, published events, module). Tests may reach in.",
      severity: "error",
      from: { path: "^src/([^/]+)/", pathNot: ["\\.test\\.ts$", "/test/"] },
      to: {
        path: `^src/${contexts}/`,
        pathNot: ["^src/$1/", `^src/${contexts}/index\\.ts$`],
      },
    },
    {
      name: "domain-is-pure",
      comment: "domain/ folders hold pure deciders: no node:* modules, no database, HTTP or Kafka client.",
      severity: "error",
      from: { path: "^src/[^/]+/domain/", pathNot: "\\.test\\.ts$" },
      to: {
        dependencyTypesNot: ["type-only"],
        path: "^(node:|pg$|pg/|fastify|@fastify/|@platformatic/kafka|@redis/|ws$|nodemailer)",
      },
    },
    {
      name: "domain-is-pure-core",
      comment: "domain/ folders import no Node core module (I/O, clock, randomness come injected).",
      severity: "error",
      from: { path: "^src/[^/]+/domain/", pathNot: "\\.test\\.ts$" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "platform-imports-no-context",
      comment: "The platform (log, db, config, HTTP kernel, module contract) knows no context and no edge.",
      severity: "error",
      from: { path: "^src/platform/", pathNot: "\\.test\\.ts$" },
      to: { path: `^src/(${contexts.slice(1, -1)}|api|app|tools|dev)/` },
    },
    {
      name: "no-cycles",
      comment: "Import cycles make start-up order and ownership unclear.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(web|node_modules|bench-results)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
