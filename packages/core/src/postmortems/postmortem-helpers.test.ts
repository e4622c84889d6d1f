import { describe, expect, it } from "vitest";
import { buildChartSnapshot, trafficOfSnapshot } from "./build-chart-snapshot.ts";
import { diffPostmortemRevisions } from "./diff-postmortem-revisions.ts";
import { canChangePostmortemStatus } from "./postmortem-status.ts";
import {
  type PostmortemSections,
  renderPostmortemTemplate,
  unknownTemplatePlaceholders,
} from "./postmortem-templates.ts";
import { renderPostmortemExport } from "./render-postmortem-export.ts";
import { chartEmbedMarkdown, splitChartEmbeds } from "./split-chart-embeds.ts";

const sections = (fill: Partial<PostmortemSections>): PostmortemSections =>
  new Proxy(fill as PostmortemSections, {
    get: (target, name: string) => target[name as keyof PostmortemSections] ?? `<${name}>`,
  });

describe("templates", () => {
  it("fills placeholders once: text from the data is never expanded again", () => {
    const out = renderPostmortemTemplate(
      "# {{ title }}\n{{summary}} {{nope}}",
      sections({ title: "T", summary: "{{title}}" }),
    );
    expect(out).toBe("# T\n{{title}} {{nope}}");
    expect(unknownTemplatePlaceholders("{{summary}} {{nope}} {{nope}}")).toEqual(["nope"]);
  });
});

describe("diffPostmortemRevisions", () => {
  it("reports added, removed and unchanged runs of lines", () => {
    const diff = diffPostmortemRevisions("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(diff.parts).toEqual([
      { kind: "unchanged", lines: ["a"] },
      { kind: "removed", lines: ["b"] },
      { kind: "added", lines: ["B"] },
      { kind: "unchanged", lines: ["c"] },
      { kind: "added", lines: ["d"] },
    ]);
    expect([diff.addedLines, diff.removedLines]).toEqual([2, 1]);
    expect(diffPostmortemRevisions("same\n", "same\n").addedLines).toBe(0);
  });
});

describe("status workflow", () => {
  it("goes draft → in review → published and never skips the review", () => {
    expect(canChangePostmortemStatus("draft", "in_review")).toBe(true);
    expect(canChangePostmortemStatus("in_review", "published")).toBe(true);
    expect(canChangePostmortemStatus("in_review", "draft")).toBe(true);
    expect(canChangePostmortemStatus("published", "in_review")).toBe(true);
    expect(canChangePostmortemStatus("draft", "published")).toBe(false);
    expect(canChangePostmortemStatus("published", "draft")).toBe(false);
  });
});

describe("splitChartEmbeds", () => {
  it("cuts top-level embeds out and leaves quoted or malformed ones as Markdown", () => {
    const quoted = "````md\n```faultline-chart\nnot-an-embed\n```\n````";
    const doc = `# A\n\n${chartEmbedMarkdown("s1")}\n\ntext\n\n${quoted}\n\n\`\`\`faultline-chart\nbad id!\n\`\`\``;
    const segments = splitChartEmbeds(doc);
    expect(segments.map((segment) => segment.kind)).toEqual(["markdown", "chart", "markdown"]);
    expect(segments[1]).toEqual({ kind: "chart", snapshotId: "s1" });
    expect(segments[2]?.kind === "markdown" && segments[2].text).toContain("not-an-embed");
    expect(() => chartEmbedMarkdown("x\n```")).toThrow();
  });
});

describe("chart snapshots", () => {
  const series = [
    {
      service: "identity",
      spanKind: "server",
      points: [
        { bucketStartMs: 0, spans: 10, errors: 1, latencyBins: {} },
        { bucketStartMs: 10_000, spans: 20, errors: 10, latencyBins: {} },
      ],
    },
    {
      service: "identity",
      spanKind: "client",
      points: [{ bucketStartMs: 0, spans: 99, errors: 99, latencyBins: {} }],
    },
    {
      service: "worker",
      spanKind: "internal",
      points: [{ bucketStartMs: 10_000, spans: 5, errors: 0, latencyBins: {} }],
    },
  ];
  const snapshot = buildChartSnapshot({
    services: ["identity", "worker"],
    series,
    stepSeconds: 10,
    fromMs: 0,
    toMs: 60_000,
    markers: [],
  });

  it("counts a service's entry spans as its requests, all spans when it has none", () => {
    expect(snapshot.series[0]?.points.map((point) => [point.t, point.requests, point.errors])).toEqual([
      [0, 10, 1],
      [10_000, 20, 10],
    ]);
    expect(snapshot.series[1]?.points.map((point) => point.requests)).toEqual([5]);
  });

  it("sums traffic over buckets overlapping a window", () => {
    expect(trafficOfSnapshot(snapshot, 15_000, 60_000)).toEqual([
      { service: "identity", requests: 20, failed: 10 },
      { service: "worker", requests: 5, failed: 0 },
    ]);
  });

  it("exports a chart as a table whose condensed rows keep the totals", () => {
    const exported = renderPostmortemExport({
      title: "t",
      status: "draft",
      incidentId: null,
      revision: 1,
      updatedAtMs: 0,
      body: `Before\n\n${chartEmbedMarkdown("c1")}\n\nAfter`,
      snapshots: [{ id: "c1", title: "Requests", capturedAtMs: 0, data: snapshot }],
      actionItems: [
        {
          title: "Fix it",
          owner: null,
          dueDate: "2026-01-01",
          priority: "high",
          status: "open",
          link: null,
          overdue: true,
        },
      ],
    });
    expect(exported).toContain("| 00:00:00 | 10 | 1 | 10.0% | — |");
    expect(exported).toContain("| 00:00:10 | 20 | 10 | 50.0% | — |");
    expect(exported).toContain("| Fix it | — | 2026-01-01 (overdue) | high | open | — |");
    expect(exported.indexOf("Before")).toBeLessThan(exported.indexOf("| 00:00:00"));
    expect(exported).not.toContain("faultline-chart");
  });
});
