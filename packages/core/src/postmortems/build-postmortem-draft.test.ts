import { describe, expect, it } from "vitest";
import { buildPostmortemDraft } from "./build-postmortem-draft.ts";
import { builtInPostmortemTemplates } from "./postmortem-templates.ts";
import { at, identityOutageFacts, testChange } from "./postmortem-test-facts.ts";
import { splitChartEmbeds } from "./split-chart-embeds.ts";

const fullTemplate = builtInPostmortemTemplates[0]?.body ?? "";
const lightTemplate = builtInPostmortemTemplates[1]?.body ?? "";

function draftOf(facts = identityOutageFacts(), templateBody = fullTemplate) {
  return buildPostmortemDraft({
    facts,
    templateBody,
    charts: [{ id: "snap1", title: "Requests and errors" }],
    writtenAtMs: at(60),
  });
}

/** The Markdown between a `## heading` and the next heading of the same or a higher level. */
function section(body: string, heading: string): string {
  const start = body.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const rest = body.slice(start + heading.length + 4);
  const end = rest.search(/\n#{1,2} /);
  return end < 0 ? rest : rest.slice(0, end);
}

describe("buildPostmortemDraft", () => {
  it("titles the draft after the incident and fills every placeholder of the template", () => {
    const draft = draftOf();
    expect(draft.title).toBe("Postmortem: identity: session validation errors");
    expect(draft.body).not.toMatch(/\{\{/);
    expect(draft.body.startsWith("# Postmortem: identity: session validation errors\n")).toBe(true);
  });

  it("states the impact with numbers: duration, share failing, users, surfaces and services", () => {
    const impact = section(draftOf().body, "Impact");
    expect(impact).toContain("Duration: 7 min");
    // The root service's own share: 11,000 of 20,000.
    expect(impact).toContain("Requests failing: 55.0% (11,000 of 20,000 requests to **identity**)");
    expect(impact).toContain("Distinct users affected: about 12,345");
    expect(impact).toContain("Surfaces: web, ios, android");
    expect(impact).toContain("Services: identity, dm-api, profile");
    expect(impact).toContain("| dm-api | 8,000 | 4,000 | 50.0% |");
  });

  it("sums all services when the root service has no traffic of its own", () => {
    const facts = identityOutageFacts();
    facts.traffic = [
      { service: "dm-api", requests: 300, failed: 30 },
      { service: "profile", requests: 100, failed: 10 },
    ];
    expect(section(draftOf(facts).body, "Impact")).toContain(
      "10.0% (40 of 400 requests to the affected services)",
    );
  });

  it("says when detection fired, by which signal, and the delay", () => {
    const detection = section(draftOf().body, "Detection");
    expect(detection).toContain("Started: 2026-11-27 10:02:00 UTC");
    expect(detection).toContain("Detected: 2026-11-27 10:02:40 UTC by Faultline's error rate spike detector");
    expect(detection).toContain("Detection delay: 40 s");
    expect(detection).toContain(
      "Acknowledged: 2026-11-27 10:04:00 UTC by **alice** (1 min 20 s after detection)",
    );
  });

  it("orders the timeline by event time, backdated notes included", () => {
    const facts = identityOutageFacts();
    facts.events.push({ atMs: at(1.5), kind: "note", message: "on-call saw login errors", author: "carol" });
    const lines = section(draftOf(facts).body, "Timeline")
      .split("\n")
      .filter((line) => line.startsWith("- "));
    expect(lines).toEqual([
      "- **10:01:00** Config change to **identity**",
      "- **10:01:30** note (note by **carol**): on-call saw login errors",
      "- **10:02:00** Anomaly begins",
      "- **10:02:40** opened: error rate of identity above baseline",
      "- **10:03:00** note (note by **bob**): support reports DMs failing",
      "- **10:08:00** Rollback of **identity**",
      "- **10:09:00** recovered: signals back to baseline",
    ]);
  });

  it("names the trigger with its evidence, or says unexplained with the suspects considered", () => {
    const explained = section(draftOf().body, "Root cause and trigger");
    expect(explained).toContain(
      "**Trigger:** config change to **identity** at 2026-11-27 10:01:00 UTC, 1 min before",
    );
    expect(explained).toContain("confidence 0.91");
    expect(explained).toContain("- errors on identity rose 40 s after the push");
    const unexplained = section(draftOf(identityOutageFacts({ cause: null })).body, "Root cause and trigger");
    expect(unexplained).toContain("**Unexplained.**");
    expect(unexplained).toContain("- Deploy of **media** 2.0.0 at 2026-11-27 10:01:00 UTC, score 0.10");
    expect(draftOf(identityOutageFacts({ cause: null })).suggestedActionItems[0]?.title).toBe(
      "Find the trigger of this incident and record it",
    );
  });

  it("describes the resolution by the rollback and how long recovery took after it", () => {
    const resolution = section(draftOf().body, "Resolution");
    expect(resolution).toContain("- Rollback of **identity** at 2026-11-27 10:08:00 UTC");
    expect(resolution).toContain("back to baseline at 2026-11-27 10:09:00 UTC (1 min after the rollback)");
    expect(resolution).toContain("Time to recover: 7 min");
  });

  it("measures an ongoing incident up to the writing time", () => {
    const facts = identityOutageFacts({ laterChanges: [] });
    facts.incident.endedAtMs = null;
    const body = draftOf(facts).body;
    expect(section(body, "Impact")).toContain("Duration: 58 min (ongoing when written)");
    expect(section(body, "Resolution")).toContain("Not recovered when this draft was written.");
    expect(section(body, "What went wrong")).toContain("Recovery took 58 min.");
  });

  it("judges detection and cause in the lessons", () => {
    const quick = draftOf().body;
    expect(section(quick, "What went well")).toContain("Detected 40 s after onset.");
    expect(section(quick, "What went well")).toContain("identified automatically (confidence 0.91)");
    const facts = identityOutageFacts({ cause: null });
    facts.incident.detectedAtMs = facts.incident.startedAtMs + 6 * 60_000;
    const slow = draftOf(facts);
    expect(section(slow.body, "What went wrong")).toContain("Detection took 6 min.");
    expect(slow.suggestedActionItems.map((item) => item.priority)).toEqual(["high", "medium"]);
  });

  it("embeds the chart snapshots so the renderer can find them", () => {
    const segments = splitChartEmbeds(draftOf().body);
    expect(segments.filter((segment) => segment.kind === "chart")).toEqual([
      { kind: "chart", snapshotId: "snap1" },
    ]);
  });

  it("renders through the lightweight template too", () => {
    const body = draftOf(identityOutageFacts(), lightTemplate).body;
    expect(body).toContain("## Why\n\n**Trigger:**");
    expect(body).not.toContain("## Detection");
  });

  it("shows commit, author and description of a change escaped", () => {
    const facts = identityOutageFacts({
      laterChanges: [
        testChange({
          id: "r",
          kind: "rollback",
          startedAtMs: at(8),
          commit: "abc*1",
          author: "ci_bot",
          description: "revert\n# not a heading",
        }),
      ],
    });
    expect(section(draftOf(facts).body, "Resolution")).toContain(
      "- Rollback of **identity** (commit abc\\*1, by ci\\_bot, “revert \\# not a heading”) at 2026-11-27 10:08:00 UTC",
    );
  });
});
