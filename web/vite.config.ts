import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const webRoot = fileURLToPath(new URL(".", import.meta.url));

/**
 * Builds the wallet + back-office PWA into web/dist, which the server serves at `/` with an SPA
 * fallback, and the GraphQL explorer (graphiql.html), served at `/graphql` to browsers. In development (`npx vite --config web/vite.config.ts`) API, GraphQL and WebSocket
 * calls are proxied to a platform already running on :8080.
 */
export default defineConfig({
  root: webRoot,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // The GraphQL explorer (Monaco included) is large, and loaded only at /graphql.
    chunkSizeWarningLimit: 5_000,
    rollupOptions: {
      // The wallet, and the GraphQL explorer the server serves at /graphql to browsers.
      input: { main: `${webRoot}index.html`, graphiql: `${webRoot}graphiql.html` },
      // GraphiQL's modules start with React Compiler directives ("use no memo") a bundle cannot keep
      // (harmless); every other warning still shows.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    proxy: {
      "/v1": "http://127.0.0.1:8080",
      "/graphql": { target: "ws://127.0.0.1:8080", ws: true, changeOrigin: true },
    },
  },
});
