/**
 * Top self-time functions of V8 `.cpuprofile` files (as written by `node --cpu-prof`), so a bench
 * profile can be read without DevTools:
 *
 *   npx tsx packages/ingest/bench/summarize-cpu-profile.ts DIR_OR_FILE... [--top 25]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topIndex = args.indexOf("--top");
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
const paths = args.filter((_, index) => index !== topIndex && index !== topIndex + 1);

function profileFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name.endsWith(".cpuprofile"))
    .map((name) => join(path, name));
}

for (const file of paths.flatMap(profileFiles)) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  const byArea = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[index] ?? 0;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(node_modules|packages)\//, "$1/")}:${lineNumber + 1}` : "";
    const label = `${functionName || "(anonymous)"} ${where}`.trim();
    selfUs.set(label, (selfUs.get(label) ?? 0) + delta);
    byArea.set(areaOf(functionName, url), (byArea.get(areaOf(functionName, url)) ?? 0) + delta);
    totalUs += delta;
  });
  const idleUs = selfUs.get("(idle)") ?? 0;
  console.log(
    `\n${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${((100 * idleUs) / totalUs).toFixed(1)} % idle`,
  );
  const areas = [...byArea].sort((a, b) => b[1] - a[1]);
  console.log(
    `by area: ${areas.map(([area, us]) => `${area} ${((100 * us) / totalUs).toFixed(1)} %`).join(", ")}`,
  );
  for (const [label, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((100 * us) / totalUs).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${label}`,
    );
  }
}

/** A coarse bucket for a frame, so the split between storage, decoding, HTTP and GC is visible. */
function areaOf(functionName: string, url: string): string {
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)" || functionName === "(program)") return functionName;
  if (url.startsWith("wasm://") || url.includes("@electric-sql/pglite")) return "PGlite (WASM + JS)";
  if (url.includes("/node_modules/pg") || url.includes("pg-protocol")) return "pg driver";
  if (url.includes("packages/otlp/src")) return "otlp decode";
  if (
    url.includes("packages/otlp/test-support") ||
    url.includes("protobufjs") ||
    url.includes("otlp-transformer")
  )
    return "baseline decode";
  if (url.includes("packages/core/src")) return "core aggregate";
  if (url.includes("packages/db/src")) return "db writer";
  if (url.includes("packages/ingest/src")) return "ingest";
  if (url.includes("node_modules/drizzle")) return "drizzle";
  if (url === "" || url.startsWith("node:")) return "node runtime (I/O, zlib, crypto, http)";
  return "other";
}
