import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The fence lives in biome.json (noRestrictedImports on packages/core and packages/otlp). This test
// writes a short-lived probe file into each package, lints it with the real Biome config and checks
// the fence really bites. (Biome's stdin mode reports no diagnostics, hence real files.)
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const biomeBin = fileURLToPath(new URL("../../../node_modules/.bin/biome", import.meta.url));

function lintAs(path: string, source: string) {
  const probe = path.replace(/\.ts$/, `-fence-probe-${randomBytes(4).toString("hex")}.ts`);
  writeFileSync(join(repoRoot, probe), source);
  try {
    const result = spawnSync(biomeBin, ["lint", probe], { cwd: repoRoot, encoding: "utf8" });
    return { failed: result.status !== 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(join(repoRoot, probe), { force: true });
  }
}

describe("dependency fence for pure domain packages", () => {
  it.each([
    ["packages/core/src/leak.ts", 'import { sql } from "drizzle-orm";\nexport const q = sql`select 1`;\n'],
    [
      "packages/core/src/leak.ts",
      'import { createDb } from "@faultline/db";\nexport const open = createDb;\n',
    ],
    [
      "packages/core/src/leak.ts",
      'import { readFile } from "node:fs/promises";\nexport const read = readFile;\n',
    ],
    ["packages/otlp/src/leak.ts", 'import { request } from "node:http";\nexport const r = request;\n'],
    ["packages/otlp/src/leak.ts", 'import Fastify from "fastify";\nexport const f = Fastify;\n'],
  ])("rejects %s importing I/O, storage or a framework", (path, source) => {
    const { failed, output } = lintAs(path, source);
    expect(failed).toBe(true);
    expect(output).toContain("noRestrictedImports");
  });

  it("allows the same import outside the pure packages", () => {
    const { failed, output } = lintAs(
      "packages/db/src/ok.ts",
      'import { sql } from "drizzle-orm";\nexport const q = sql`select 1`;\n',
    );
    expect(output).not.toContain("noRestrictedImports");
    expect(failed).toBe(false);
  });

  it("allows pure imports inside the pure packages", () => {
    const { failed } = lintAs(
      "packages/core/src/ok.ts",
      'import { bucketStartOf } from "./time-buckets.ts";\nexport const b = bucketStartOf(0);\n',
    );
    expect(failed).toBe(false);
  });
});
