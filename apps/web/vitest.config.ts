import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Component tests (*.test.tsx) run in jsdom; the end-to-end test (e2e/) starts a real server and
// drives headless Chromium.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ["src/**/*.test.{ts,tsx}", "e2e/**/*.test.ts"],
      // Each end-to-end file runs a server, a demo replay and Chromium: one at a time on small machines.
      fileParallelism: false,
    },
  }),
);
