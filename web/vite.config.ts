import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const webRoot = fileURLToPath(new URL(".", import.meta.url));

/**
 * Builds the wallet + back-office PWA into web/dist, which the server serves at `/` with an SPA
 * fallback. In development (`npx vite --config web/vite.config.ts`) API, GraphQL and WebSocket
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
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/v1": "http://127.0.0.1:8080",
      "/graphql": { target: "ws://127.0.0.1:8080", ws: true, changeOrigin: true },
    },
  },
});
