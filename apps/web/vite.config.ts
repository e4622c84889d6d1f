import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev -w @faultline/web`: Vite with hot reload on :5173, proxying the API to a running
// `faultline serve` (FAULTLINE_API_URL, default http://127.0.0.1:3000) and the UI's own Faro reports
// to its OTLP port (FAULTLINE_OTLP_URL, default http://127.0.0.1:4318).
const apiUrl = process.env.FAULTLINE_API_URL ?? "http://127.0.0.1:3000";
const otlpUrl = process.env.FAULTLINE_OTLP_URL ?? "http://127.0.0.1:4318";

export default defineConfig(({ command }) => ({
  plugins: [react()],
  // Under `vite` (dev) the UI's Faro reports go through the proxy below; a build reports to the URL
  // the server gives (config.get). Not import.meta.env.DEV: a build inside vitest runs with NODE_ENV=test.
  define: { __FARO_THROUGH_DEV_PROXY__: JSON.stringify(command === "serve") },
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    port: 5173,
    proxy: {
      "/trpc": { target: apiUrl, changeOrigin: true },
      "/collect": { target: otlpUrl, changeOrigin: true },
    },
  },
}));
