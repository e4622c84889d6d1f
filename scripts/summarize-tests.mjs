#!/usr/bin/env node
// Totals the JSON reports that every workspace's vitest run writes (see vitest.shared.ts) and prints
// one closing line, "tests: N passed, N failed, N skipped", which CI reads as the run's result.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const totals = { passed: 0, failed: 0, skipped: 0 };
const missing = [];
for (const group of ["apps", "packages"]) {
  for (const name of readdirSync(join(root, group))) {
    const workspace = join(root, group, name);
    if (!existsSync(join(workspace, "vitest.config.ts"))) continue;
    const report = join(workspace, "test-results", "vitest.json");
    if (!existsSync(report)) {
      missing.push(`${group}/${name}`);
      continue;
    }
    const result = JSON.parse(readFileSync(report, "utf8"));
    totals.passed += result.numPassedTests;
    totals.failed += result.numFailedTests;
    totals.skipped += result.numPendingTests + result.numTodoTests;
  }
}
if (missing.length > 0) console.log(`no test report from: ${missing.join(", ")}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 || missing.length > 0 ? 1 : 0);
