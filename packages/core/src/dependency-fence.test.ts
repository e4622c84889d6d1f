import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The fence lives in biome.json (noRestrictedImports on packages/core and packages/otlp). This test
// lints would-be source files of each package with the repository's real Biome configuration, in a
// scratch copy of the layout: Biome's stdin mode reports no diagnostics, and probe files inside the
// real tree would race with the type checker and linter of other workspaces.
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const biomeBin = join(repoRoot, "node_modules/.bin/biome");
const scratch = mkdtempSync(join(tmpdir(), "faultline-fence-"));
const config = JSON.parse(readFileSync(join(repoRoot, "biome.json"), "utf8")) as Record<string, unknown>;
delete config.vcs; // the scratch copy is no git checkout
delete config.$schema;
writeFileSync(join(scratch, "biome.json"), JSON.stringify(config));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function lintAs(path: string, source: string) {
  const file = join(scratch, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  const result = spawnSync(biomeBin, ["lint", path], { cwd: scratch, encoding: "utf8" });
  return { failed: result.status !== 0, output: `${result.stdout}${result.stderr}` };
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
