import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildCorrelationReport, type ReportChangeInput } from "./build-correlation-report.ts";
import {
  correlationCsvColumns,
  correlationCsvFileName,
  csvField,
  renderCorrelationReportCsv,
} from "./render-correlation-report-csv.ts";

const t = (iso: string) => Date.parse(iso);

/** A strict RFC 4180 reader: fails on anything a conforming writer would not produce. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let index = 0;
  while (index < text.length) {
    let field = "";
    if (text[index] === '"') {
      index += 1;
      for (;;) {
        const quote = text.indexOf('"', index);
        if (quote < 0) throw new Error("unterminated quoted field");
        field += text.slice(index, quote);
        if (text[quote + 1] === '"') {
          field += '"';
          index = quote + 2;
        } else {
          index = quote + 1;
          break;
        }
      }
    } else {
      const end = text.slice(index).search(/,|\r\n/);
      field = end < 0 ? text.slice(index) : text.slice(index, index + end);
      if (/["\r\n]/.test(field)) throw new Error(`bare field with a quote or line break: ${field}`);
      index += field.length;
    }
    record.push(field);
    if (text[index] === ",") index += 1;
    else if (text.startsWith("\r\n", index)) {
      records.push(record);
      record = [];
      index += 2;
    } else throw new Error(`unexpected ${JSON.stringify(text[index])} at ${index}`);
  }
  if (record.length > 0) throw new Error("last record not terminated by CRLF");
  return records;
}

const authzDeploy: ReportChangeInput = {
  id: "chg_authz",
  environment: "production",
  service: "authz",
  version: "2.14.0",
  kind: "deploy",
  source: "api",
  startedAtMs: t("2026-11-27T10:03:00Z"),
  finishedAtMs: t("2026-11-27T10:05:00Z"),
};

const report = buildCorrelationReport({
  environment: "production",
  fromMs: t("2026-11-27T00:00:00Z"),
  toMs: t("2026-11-28T00:00:00Z"),
  changes: [
    authzDeploy,
    {
      ...authzDeploy,
      id: "chg_cfg",
      service: "dm-api",
      version: null,
      kind: "config",
      source: "telemetry",
      startedAtMs: t("2026-11-27T11:00:00Z"),
      finishedAtMs: null,
    },
  ],
  incidents: [
    {
      id: "inc_1",
      title: 'Errors on dm-api, "login"',
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
        { changeId: "chg_authz", score: 0.92, evidence: ["errors 41× higher", "3 min before onset"] },
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
      detectedAtMs: t("2026-11-27T13:00:30Z"),
      endedAtMs: null,
      services: ["dm-api"],
      affectedUsers: 0,
      causeChangeId: null,
      suspects: [{ changeId: "chg_cfg", score: 0.3, evidence: ["pushed 2 h before onset"] }],
    },
  ],
});

describe("renderCorrelationReportCsv", () => {
  it("writes one RFC 4180 table: a header, incident rows with cause and top suspect, then change rows", () => {
    const csv = renderCorrelationReportCsv(report);
    expect(csv.split("\r\n")[0]).toBe(correlationCsvColumns.map((column) => `"${column}"`).join(","));
    const firstIncident =
      '"incident","inc_1","production","2026-11-27T10:06:00.000Z","2026-11-27T10:06:40.000Z",' +
      '"2026-11-27T10:21:00.000Z","Errors on dm-api, ""login""","resolved","sev2","error_rate","authz",' +
      '"dm-api; authz",1204,40,900,"authz 2.14.0 (deploy)","chg_authz",0.92,"authz 2.14.0 (deploy)",' +
      '"chg_authz",0.92,"errors 41× higher\n3 min before onset",,,,,\r\n';
    expect(csv.slice(csv.indexOf("\r\n") + 2, csv.indexOf("\r\n") + 2 + firstIncident.length)).toBe(
      firstIncident,
    );
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row).toHaveLength(correlationCsvColumns.length);
    const named = rows
      .slice(1)
      .map((row) => Object.fromEntries(correlationCsvColumns.map((column, index) => [column, row[index]])));
    expect(named.map((row) => [row.record_type, row.id])).toEqual([
      ["incident", "inc_1"],
      ["incident", "inc_2"],
      ["change", "chg_authz"],
      ["change", "chg_cfg"],
    ]);
    expect(named[0]).toMatchObject({
      title: 'Errors on dm-api, "login"',
      top_suspect_evidence: "errors 41× higher\n3 min before onset",
      change_service: "",
    });
    expect(named[1]).toMatchObject({
      cause: "unexplained",
      cause_change_id: "",
      cause_score: "",
      top_suspect: "dm-api (config)",
      top_suspect_score: "0.3",
      time_to_detect_seconds: "30",
      time_to_recover_seconds: "",
      ended_at: "",
    });
    expect(named[2]).toMatchObject({
      started_at: "2026-11-27T10:03:00.000Z",
      ended_at: "2026-11-27T10:05:00.000Z",
      change_service: "authz",
      change_version: "2.14.0",
      change_kind: "deploy",
      change_source: "api",
      caused_incident_ids: "inc_1",
      title: "",
    });
    expect(named[3]).toMatchObject({
      change_version: "",
      change_source: "telemetry",
      caused_incident_ids: "",
    });
  });

  it("neutralises spreadsheet formulas and quotes every text field", () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
    expect(csvField("+1+1")).toBe('"\'+1+1"');
    expect(csvField("-2+3")).toBe('"\'-2+3"');
    expect(csvField("@SUM(A1)")).toBe('"\'@SUM(A1)"');
    expect(csvField("\t=1")).toBe('"\'\t=1"');
    expect(csvField("\r=1")).toBe('"\'\r=1"');
    expect(csvField("a=1")).toBe('"a=1"');
    expect(csvField("line\nbreak, comma")).toBe('"line\nbreak, comma"');
    expect(csvField(-3)).toBe("-3");
    expect(csvField(null)).toBe("");
    expect(csvField(Number.NaN)).toBe("");
  });

  it.each([
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-1+2",
    "@import",
    "\t=1",
    "\r\n=1",
    '<script>alert("x")</script>',
    "a,b\r\nc,d",
    '"""',
  ])("keeps %j in its own field and never lets it start a formula", (text) => {
    const hostile = buildCorrelationReport({
      environment: text,
      fromMs: t("2026-11-27T00:00:00Z"),
      toMs: t("2026-11-28T00:00:00Z"),
      changes: [{ ...authzDeploy, environment: text, service: text, version: text }],
      incidents: [],
    });
    const rows = parseCsv(renderCorrelationReportCsv(hostile));
    expect(rows).toHaveLength(2);
    const change = rows[1] ?? [];
    expect(change).toHaveLength(correlationCsvColumns.length);
    const service = change[correlationCsvColumns.indexOf("change_service")];
    expect(service).toBe(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
    for (const field of change) expect(field).not.toMatch(/^[=+\-@\t\r]/);
  });

  it("round-trips any text through a strict reader, neutralised (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.string({ maxLength: 20 }),
        (title, service) => {
          const hostile = buildCorrelationReport({
            environment: "production",
            fromMs: t("2026-11-27T00:00:00Z"),
            toMs: t("2026-11-28T00:00:00Z"),
            changes: [],
            incidents: [
              {
                id: "inc",
                title,
                status: "open",
                severity: "sev1",
                signal: "error_rate",
                rootService: service,
                startedAtMs: t("2026-11-27T10:00:00Z"),
                detectedAtMs: t("2026-11-27T10:00:10Z"),
                endedAtMs: null,
                services: [service],
                affectedUsers: 1,
                causeChangeId: null,
                suspects: [],
              },
            ],
          });
          const rows = parseCsv(renderCorrelationReportCsv(hostile));
          expect(rows).toHaveLength(2);
          const incident = rows[1] ?? [];
          expect(incident).toHaveLength(correlationCsvColumns.length);
          const neutral = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
          expect(incident[correlationCsvColumns.indexOf("title")]).toBe(neutral(title));
          expect(incident[correlationCsvColumns.indexOf("root_service")]).toBe(neutral(service));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("correlationCsvFileName", () => {
  it("names the download after the environment and the period start, in a safe alphabet", () => {
    expect(correlationCsvFileName(report)).toBe("faultline-correlation-production-20261127T000000Z.csv");
    expect(correlationCsvFileName({ environment: 'a"b\r\n/../c', from: "2026-11-27T00:00:00.000Z" })).toBe(
      "faultline-correlation-a_b_.._c-20261127T000000Z.csv",
    );
    expect(correlationCsvFileName({ environment: "", from: "2026-11-27T00:00:00.000Z" })).toBe(
      "faultline-correlation-_-20261127T000000Z.csv",
    );
  });
});
