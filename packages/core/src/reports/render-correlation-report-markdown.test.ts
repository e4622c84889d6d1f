import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildCorrelationReport,
  type ReportChangeInput,
  type ReportIncidentInput,
} from "./build-correlation-report.ts";
import { escapeMarkdown } from "./escape-markdown.ts";
import { formatDuration, renderCorrelationReportMarkdown } from "./render-correlation-report-markdown.ts";

const t = (iso: string) => Date.parse(iso);

const changes: ReportChangeInput[] = [
  {
    id: "chg_authz",
    environment: "production",
    service: "authz",
    version: "2.14.0",
    kind: "deploy",
    source: "api",
    startedAtMs: t("2026-11-27T10:03:00Z"),
    finishedAtMs: t("2026-11-27T10:05:00Z"),
  },
  {
    id: "chg_flag",
    environment: "production",
    service: "dm-api",
    version: null,
    kind: "feature_flag",
    source: "webhook",
    startedAtMs: t("2026-11-27T11:00:00Z"),
    finishedAtMs: null,
  },
  {
    id: "chg_rollback",
    environment: "production",
    service: "authz",
    version: "2.13.9",
    kind: "rollback",
    source: "api",
    startedAtMs: t("2026-11-27T10:20:00Z"),
    finishedAtMs: null,
  },
  {
    id: "chg_inferred",
    environment: "production",
    service: "dm-api",
    version: "3.1.0",
    kind: "deploy",
    source: "telemetry",
    startedAtMs: t("2026-11-27T12:00:00Z"),
    finishedAtMs: null,
  },
];

const incidents: ReportIncidentInput[] = [
  {
    id: "inc_1",
    title: "Errors on dm-api",
    status: "resolved",
    severity: "sev2",
    signal: "error_rate",
    rootService: "authz",
    startedAtMs: t("2026-11-27T10:06:00Z"),
    detectedAtMs: t("2026-11-27T10:06:40Z"),
    endedAtMs: t("2026-11-27T10:21:00Z"),
    services: ["dm-api", "authz"],
    affectedUsers: 1204,
    causeChangeId: "chg_authz",
    suspects: [
      { changeId: "chg_authz", score: 0.92, evidence: ["errors 41× higher on 2.14.0", "3 min before"] },
    ],
  },
  {
    id: "inc_2",
    title: "Latency on dm-api",
    status: "open",
    severity: "sev3",
    signal: "latency",
    rootService: null,
    startedAtMs: t("2026-11-27T13:00:00Z"),
    detectedAtMs: t("2026-11-27T13:03:20Z"),
    endedAtMs: null,
    services: ["dm-api"],
    affectedUsers: 0,
    causeChangeId: null,
    suspects: [{ changeId: "chg_inferred", score: 0.31, evidence: ["deployed 1 h before onset"] }],
  },
];

const report = buildCorrelationReport({
  environment: "production",
  fromMs: t("2026-11-27T00:00:00Z"),
  toMs: t("2026-11-28T00:00:00Z"),
  incidents,
  changes,
});

describe("renderCorrelationReportMarkdown", () => {
  it("renders title, summary, incidents, failing changes, failure rates by service and kind, and changes", () => {
    expect(renderCorrelationReportMarkdown(report)).toBe(
      [
        "# Correlation report: production, 2026-11-27 00:00:00 UTC to 2026-11-28 00:00:00 UTC",
        "",
        "## Summary",
        "",
        "| Measure | Value |",
        "| --- | ---: |",
        "| Changes (rollbacks excluded) | 3 |",
        "| Failed changes | 1 |",
        "| Change failure rate | 33.3% |",
        "| Incidents | 2 |",
        "| Incidents with a cause | 1 |",
        "| Median time to detect | 2 min |",
        "| Median time to recover | 15 min |",
        "",
        "## Incidents",
        "",
        "| Start | Title | Root service | Services | Signal | Affected users | Cause | Time to detect |",
        "| --- | --- | --- | --- | --- | ---: | --- | ---: |",
        "| 2026-11-27 10:06:00 UTC | Errors on dm-api | authz | dm-api, authz | error\\_rate | 1204 | authz 2.14.0 (deploy), score 0.92 | 40 s |",
        "| 2026-11-27 13:00:00 UTC | Latency on dm-api | — | dm-api | latency | 0 | unexplained | 3 min 20 s |",
        "",
        "## Failing changes",
        "",
        "- 2026-11-27 10:03:00 UTC: authz 2.14.0 (deploy), reported (API); caused 1 incident",
        "  - 2026-11-27 10:06:00 UTC: Errors on dm-api (inc\\_1); evidence: errors 41× higher on 2.14.0; 3 min before",
        "",
        "## Change failure rate by service",
        "",
        "| Service | Changes | Failed | Change failure rate | Rollbacks |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| authz | 1 | 1 | 100.0% | 1 |",
        "| dm-api | 2 | 0 | 0.0% | 0 |",
        "",
        "## Change failure rate by kind",
        "",
        "| Kind | Changes | Failed | Change failure rate |",
        "| --- | ---: | ---: | ---: |",
        "| Deploy | 2 | 1 | 50.0% |",
        "| Config | 0 | 0 | — |",
        "| Feature flag | 1 | 0 | 0.0% |",
        "",
        "Rollbacks (1 in this period) are left out of the denominator: undoing a change is not a new change that can fail.",
        "",
        "## Changes",
        "",
        "| Start | Service | Version | Kind | Source | Caused incidents |",
        "| --- | --- | --- | --- | --- | ---: |",
        "| 2026-11-27 10:03:00 UTC | authz | 2.14.0 | Deploy | reported (API) | 1 |",
        "| 2026-11-27 10:20:00 UTC | authz | 2.13.9 | Rollback | reported (API) | 0 |",
        "| 2026-11-27 11:00:00 UTC | dm-api | — | Feature flag | reported (webhook) | 0 |",
        "| 2026-11-27 12:00:00 UTC | dm-api | 3.1.0 | Deploy | inferred from telemetry | 0 |",
        "",
      ].join("\n"),
    );
  });

  it("says so plainly when the period holds nothing", () => {
    const empty = buildCorrelationReport({
      environment: "staging",
      fromMs: t("2026-11-27T00:00:00Z"),
      toMs: t("2026-11-28T00:00:00Z"),
      incidents: [],
      changes: [],
    });
    const markdown = renderCorrelationReportMarkdown(empty);
    expect(markdown).toContain("| Change failure rate | — |");
    expect(markdown).toContain("| Median time to detect | — |");
    expect(markdown).toContain("## Incidents\n\nNo incidents in this period.");
    expect(markdown).toContain("## Failing changes\n\nNo change caused an incident in this period.");
    expect(markdown).toContain("## Change failure rate by service\n\nNo changes in this period.");
    expect(markdown).toContain("| Config | 0 | 0 | — |");
    expect(markdown).toContain("## Changes\n\nNo changes in this period.");
  });
});

/** Untrusted strings an attacker can put into span names, service names, versions and evidence. */
const hostile = [
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "[click](javascript:alert(1))",
  "![x](javascript:alert(1))",
  "<javascript:alert(1)>",
  "[ref]: javascript:alert(1)",
  "a | b | c",
  "line one\nline two\r\n# heading\n<div>",
  "`code` and ``more``",
  "**bold** _em_ ~~strike~~",
  "https://evil.example/login and www.evil.example",
  "back\\slash \\| escaped pipe \\<b>",
  "&lt;script&gt; entity &#60;b&#62;",
  '=HYPERLINK("http://evil")',
  "\u0000nul\u0007bell\u001b[31mred",
];

/** Splits a table row on the pipes that are not backslash-escaped. */
function cellsOf(row: string): string[] {
  const cells: string[] = [];
  let current = "";
  for (let index = 1; index < row.length - 1; index += 1) {
    const char = row[index];
    if (char === "\\") {
      current += `${char}${row[index + 1] ?? ""}`;
      index += 1;
    } else if (char === "|") {
      cells.push(current);
      current = "";
    } else current += char;
  }
  cells.push(current);
  return cells;
}

/** Fails when a character that could start markup appears without its escape. */
function expectInert(markdown: string): void {
  expect(markdown).not.toMatch(/[<>]/);
  // Every `[`, `]`, `` ` ``, `*`, `_`, `~` is preceded by an odd run of backslashes (an escape).
  for (const match of markdown.matchAll(/(\\*)([[\]`*_~])/g)) {
    expect((match[1] ?? "").length % 2, `unescaped ${match[2]} in ${markdown}`).toBe(1);
  }
  expect(markdown).not.toMatch(/https?:\/\//);
  expect(markdown).not.toMatch(/(?<!\\)\bwww\./i);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none survive
  expect(markdown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
}

/** Every row of every table has as many cells as its header row. */
function expectTablesAligned(lines: readonly string[]): void {
  let columns: number | null = null;
  for (const line of lines) {
    if (!line.startsWith("|")) {
      columns = null;
      continue;
    }
    expect(line.endsWith(" |"), line).toBe(true);
    const count = cellsOf(line).length;
    columns ??= count;
    expect(count, line).toBe(columns);
  }
}

function hostileReport(text: string) {
  return buildCorrelationReport({
    environment: text,
    fromMs: t("2026-11-27T00:00:00Z"),
    toMs: t("2026-11-28T00:00:00Z"),
    changes: [
      {
        ...(changes[0] as ReportChangeInput),
        id: text,
        environment: text,
        service: text,
        version: text,
        source: "telemetry",
      },
    ],
    incidents: [
      {
        ...(incidents[0] as ReportIncidentInput),
        id: text,
        title: text,
        rootService: text,
        services: [text, text],
        signal: text,
        status: text,
        causeChangeId: text,
        suspects: [{ changeId: text, score: 0.9, evidence: [text, text] }],
      },
    ],
  });
}

describe("Markdown escaping of untrusted text", () => {
  it.each(hostile)("renders %j as inert text, with every table row keeping its columns", (text) => {
    const markdown = renderCorrelationReportMarkdown(hostileReport(text));
    expectInert(markdown);
    const lines = markdown.split("\n");
    expectTablesAligned(lines);
    // The incidents table keeps its 8 columns and the changes table its 6, whatever the text holds.
    const incidentRow = lines.find((line) => line.startsWith("| 2026-11-27 10:06:00 UTC"));
    expect(cellsOf(incidentRow ?? "")).toHaveLength(8);
    const changeRow = lines.find((line) => line.startsWith("| 2026-11-27 10:03:00 UTC"));
    expect(cellsOf(changeRow ?? "")).toHaveLength(6);
    // Only lines the renderer generated start a block: headings, tables, list items or fixed text.
    for (const line of lines) {
      expect(line).toMatch(/^(# Correlation report: |## |\| |- 2026-| {2}- 2026-|Rollbacks \(|No |$)/);
    }
  });

  it("escapes each markup character and keeps the text readable", () => {
    expect(escapeMarkdown("<script>alert('x')</script>")).toBe("&lt;script&gt;alert('x')&lt;/script&gt;");
    expect(escapeMarkdown("[a](javascript:alert(1))")).toBe("\\[a\\](javascript:alert(1))");
    expect(escapeMarkdown("a|b\nc\r\nd")).toBe("a\\|b c d");
    expect(escapeMarkdown("`x` *y* _z_ ~w~ #1")).toBe("\\`x\\` \\*y\\* \\_z\\_ \\~w\\~ \\#1");
    expect(escapeMarkdown("\\|")).toBe("\\\\\\|");
    expect(escapeMarkdown("R&D")).toBe("R&amp;D");
    expect(escapeMarkdown("see https://x.example or WWW.y.example")).toBe(
      "see https\\://x.example or WWW\\.y.example",
    );
    expect(escapeMarkdown("dm-api 2.14.0-rc.1")).toBe("dm-api 2.14.0-rc.1");
  });

  it("keeps any text inert and every table row's column count (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
        const markdown = renderCorrelationReportMarkdown(hostileReport(text));
        expectInert(markdown);
        expectTablesAligned(markdown.split("\n"));
      }),
      { numRuns: 300 },
    );
  });
});

describe("formatDuration", () => {
  it("picks units a person reads at a glance", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(42.5)).toBe("42.5 s");
    expect(formatDuration(60)).toBe("1 min");
    expect(formatDuration(200)).toBe("3 min 20 s");
    expect(formatDuration(7500)).toBe("2 h 5 min");
    expect(formatDuration(97_200)).toBe("1 d 3 h");
  });
});
