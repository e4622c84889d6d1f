import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The formatting, routing and backoff code does no I/O and reads no clock: only the
// transport and the worker talk to the network and the database.
const pureModules = [
  "format-email-message.ts",
  "format-pagerduty-event.ts",
  "format-slack-message.ts",
  "format-webhook-payload.ts",
  "notification-message.ts",
  "notify-config.ts",
  "retry-delay.ts",
  "route-notification.ts",
];
const allowedImports = new Set(["node:crypto", "picomatch", "yaml", "zod"]);

describe("pure notification modules", () => {
  for (const file of pureModules) {
    it(`${file} imports nothing that does I/O and never reads the clock`, () => {
      const source = readFileSync(new URL(`./${file}`, import.meta.url), "utf8");
      const imports = [...source.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1] ?? "");
      expect(imports.filter((name) => !name.startsWith("./") && !allowedImports.has(name))).toEqual([]);
      expect(source).not.toMatch(/Date\.now\(\)|new Date\(\)|performance\.now/);
    });
  }
});
