// The portal's app: built into the Python package (src/modelyard/server/spa/dist), served by
// `modelyard server` under /app/ (server/spa/site.py). `npm run dev` serves it with hot reload
// and passes the API and the login through to a server on 127.0.0.1:8765 (`modelyard server`).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const server = "http://127.0.0.1:8765"; // `modelyard server`'s default address

export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "../src/modelyard/server/spa/dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // Every asset a file of its own: the page's CSP allows no inline data: script or style.
    assetsInlineLimit: 0,
    sourcemap: false,
    // The budget that matters is gzipped (≤ 300 KB of initial script, tests/server/test_spa_build.py).
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": server,
      "/login": server,
      "/logout": server,
      "/static": server,
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
