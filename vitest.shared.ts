import { defineConfig } from "vitest/config";

/**
 * The one vitest configuration every workspace uses. Besides the console report, each run writes a
 * JSON report that `scripts/summarize-tests.mjs` totals into the closing line CI reads.
 */
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
  },
});
