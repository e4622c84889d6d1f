import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useSearchParams } from "react-router";
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { downloadText } from "../components/download-text.ts";
import { QueryState } from "../components/query-state.tsx";
import "../components/postmortem.css";
import { describeChange, formatDateTime, formatDuration, formatPercent } from "../format.ts";
import { type Outputs, useTRPC } from "../trpc.ts";

type ReportAnswer = Outputs["reports"]["correlation"];
const dayMs = 86_400_000;
const presets = [7, 30, 90] as const;
const countedKinds = ["deploy", "config", "feature_flag"] as const;

const kindLabels: Record<string, string> = {
  deploy: "Deploy",
  config: "Config",
  feature_flag: "Feature flag",
  rollback: "Rollback",
};

/** Today's date in UTC as YYYY-MM-DD, the day after `date`, and so on: periods are whole UTC days. */
function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * `/reports?from=YYYY-MM-DD&to=YYYY-MM-DD&env=production` (whole UTC days, `to` inclusive): which changes
 * caused incidents. The numbers come from the same code as `GET /api/v1/reports/correlation` and
 * `faultline report`, and the exports are their Markdown and CSV.
 */
export function ReportsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const config = useQuery(trpc.config.get.queryOptions());
  const [params, setParams] = useSearchParams();
  const today = utcDate(Date.now());
  const fromDate = /^\d{4}-\d{2}-\d{2}$/.test(params.get("from") ?? "")
    ? (params.get("from") as string)
    : utcDate(Date.now() - 6 * dayMs);
  const toDate = /^\d{4}-\d{2}-\d{2}$/.test(params.get("to") ?? "") ? (params.get("to") as string) : today;
  const environment = params.get("env") || config.data?.defaultEnvironment || "production";
  const period = {
    fromMs: Date.parse(`${fromDate}T00:00:00Z`),
    toMs: Date.parse(`${toDate}T00:00:00Z`) + dayMs,
    environment,
  };
  const valid = period.fromMs < period.toMs;
  const report = useQuery(
    trpc.reports.correlation.queryOptions(period, { enabled: valid && config.isSuccess }),
  );
  const setPeriod = (next: { from?: string; to?: string; env?: string }) =>
    setParams(
      (current) => {
        const updated = new URLSearchParams(current);
        for (const [key, value] of Object.entries(next)) if (value !== undefined) updated.set(key, value);
        return updated;
      },
      { replace: true },
    );
  const [envDraft, setEnvDraft] = useState(environment);
  const submitEnv = (event: FormEvent) => {
    event.preventDefault();
    if (envDraft.trim()) setPeriod({ env: envDraft.trim() });
  };
  const exportAs = async (format: "md" | "csv") => {
    const file = await queryClient.fetchQuery(trpc.reports.export.queryOptions({ period, format }));
    downloadText(file.fileName, file.text, format === "md" ? "text/markdown" : "text/csv");
  };
  return (
    <div className="page reports-page">
      <h1>Reports: changes and incidents</h1>
      <div className="report-controls">
        <fieldset className="segmented">
          <legend className="visually-hidden">Period</legend>
          {presets.map((days) => {
            const from = utcDate(Date.now() - (days - 1) * dayMs);
            const active = fromDate === from && toDate === today;
            return (
              <button
                key={days}
                type="button"
                className={active ? "active" : undefined}
                aria-pressed={active}
                onClick={() => setPeriod({ from, to: today })}
              >
                {days} days
              </button>
            );
          })}
        </fieldset>
        <label>
          From{" "}
          <input
            type="date"
            value={fromDate}
            max={toDate}
            onChange={(event) => event.target.value && setPeriod({ from: event.target.value })}
          />
        </label>
        <label>
          To{" "}
          <input
            type="date"
            value={toDate}
            min={fromDate}
            onChange={(event) => event.target.value && setPeriod({ to: event.target.value })}
          />
        </label>
        <form onSubmit={submitEnv} className="env-form">
          <label>
            Environment{" "}
            <input
              value={envDraft}
              onChange={(event) => setEnvDraft(event.target.value)}
              onBlur={submitEnv}
            />
          </label>
        </form>
        <span className="report-exports">
          <button type="button" onClick={() => void exportAs("csv")} disabled={!report.data}>
            Export CSV
          </button>
          <button type="button" onClick={() => void exportAs("md")} disabled={!report.data}>
            Export Markdown
          </button>
        </span>
      </div>
      {!valid && <p className="state state-error">The period must end after it starts.</p>}
      <QueryState label="the report" isPending={report.isPending && valid} error={report.error}>
        {report.data && <ReportBody answer={report.data} />}
      </QueryState>
    </div>
  );
}

function ReportBody(props: { answer: ReportAnswer }) {
  const { report, byService, byKind, overTime, bucketMs } = props.answer;
  const summary = report.summary;
  const incidentById = new Map(report.incidents.map((incident) => [incident.id, incident]));
  const unexplained = report.incidents.filter((incident) => incident.cause === null);
  const failing = report.deploys.filter((deploy) => deploy.causedIncidentIds.length > 0);
  // Hourly buckets read as times (with the date at midnight), daily and weekly ones as dates.
  const tick = (ms: number) =>
    bucketMs < dayMs && new Date(ms).getUTCHours() !== 0
      ? `${utcDate(ms).slice(5)} ${new Date(ms).toISOString().slice(11, 16)}`
      : utcDate(ms);
  // The counted kinds always appear, so periods compare row for row (as in the Markdown report).
  const kindRows = [
    ...countedKinds.map(
      (kind) =>
        byKind.find((row) => row.key === kind) ?? {
          key: kind,
          changes: 0,
          failed: 0,
          changeFailureRate: null,
          rollbacks: 0,
        },
    ),
    ...byKind.filter((row) => !(countedKinds as readonly string[]).includes(row.key)),
  ];
  return (
    <>
      <dl className="report-summary" aria-label="Summary">
        <Stat label="Changes" value={String(summary.deploys)} hint="rollbacks excluded" />
        <Stat label="Failed changes" value={String(summary.failedDeploys)} />
        <Stat
          label="Change failure rate"
          value={summary.deploys === 0 ? "–" : formatPercent(summary.changeFailureRate)}
        />
        <Stat label="Incidents" value={String(summary.incidents)} />
        <Stat label="With a cause" value={String(summary.incidentsWithCause)} />
        <Stat label="Median time to detect" value={seconds(summary.medianTimeToDetectSeconds)} />
        <Stat label="Median time to recover" value={seconds(summary.medianTimeToRecoverSeconds)} />
      </dl>
      <section className="panel" aria-labelledby="over-time-title">
        <h2 id="over-time-title">Changes against incidents</h2>
        <ResponsiveContainer width="100%" height={240}>
          <ComposedChart
            data={overTime.map((bucket) => ({ ...bucket, okChanges: bucket.changes - bucket.failedChanges }))}
          >
            <CartesianGrid stroke="#2a3040" strokeDasharray="3 3" />
            <XAxis dataKey="startMs" tickFormatter={tick} stroke="#8b93a7" fontSize={11} minTickGap={24} />
            <YAxis allowDecimals={false} stroke="#8b93a7" fontSize={11} />
            <Tooltip
              labelFormatter={(value) => tick(Number(value))}
              contentStyle={{ background: "#161b26", border: "1px solid #2a3040" }}
            />
            <Legend />
            <Bar
              dataKey="okChanges"
              name="Changes"
              stackId="changes"
              fill="#5ab0ff"
              isAnimationActive={false}
            />
            <Bar
              dataKey="failedChanges"
              name="Changes that caused incidents"
              stackId="changes"
              fill="#ff6b5a"
              isAnimationActive={false}
            />
            <Bar dataKey="incidents" name="Incidents" fill="#f5c542" isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </section>
      <div className="two-columns">
        <FailureTable title="Change failure rate by service" rows={byService} label={(key) => key} />
        <FailureTable
          title="Change failure rate by kind"
          rows={kindRows}
          label={(key) => kindLabels[key] ?? key}
        />
      </div>
      <section className="panel" aria-labelledby="failing-title">
        <h2 id="failing-title">Changes that caused incidents</h2>
        {failing.length === 0 ? (
          <p className="state state-empty">No change caused an incident in this period.</p>
        ) : (
          <ul className="failing-changes">
            {failing.map((deploy) => (
              <li key={deploy.id} data-change-id={deploy.id}>
                <strong>{describeChange(deploy)}</strong>{" "}
                <span className="muted">{formatDateTime(Date.parse(deploy.startedAt))}</span>
                <ul>
                  {deploy.causedIncidentIds.map((incidentId) => {
                    const incident = incidentById.get(incidentId);
                    return (
                      <li key={incidentId}>
                        <Link to={`/incidents/${encodeURIComponent(incidentId)}`}>
                          {incident?.title ?? incidentId}
                        </Link>
                        {incident && (
                          <span className="muted"> · {formatDateTime(Date.parse(incident.startedAt))}</span>
                        )}
                      </li>
                    );
                  })}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="panel" aria-labelledby="unexplained-title">
        <h2 id="unexplained-title">Incidents without a cause</h2>
        {unexplained.length === 0 ? (
          <p className="state state-empty">Every incident in this period has a cause.</p>
        ) : (
          <ul>
            {unexplained.map((incident) => (
              <li key={incident.id}>
                <Link to={`/incidents/${encodeURIComponent(incident.id)}`}>{incident.title}</Link>{" "}
                <span className="muted">
                  {formatDateTime(Date.parse(incident.startedAt))}
                  {incident.suspects[0] &&
                    ` · top suspect ${describeChange(incident.suspects[0])} (score ${incident.suspects[0].score.toFixed(2)})`}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function seconds(value: number | null): string {
  return value === null ? "–" : formatDuration(value * 1000);
}

function Stat(props: { label: string; value: string; hint?: string }) {
  return (
    <div className="stat">
      <dt>{props.label}</dt>
      <dd>
        {props.value}
        {props.hint && <small>{props.hint}</small>}
      </dd>
    </div>
  );
}

function FailureTable(props: {
  title: string;
  rows: ReportAnswer["byService"];
  label: (key: string) => string;
}) {
  const id = props.title.toLowerCase().replace(/\W+/g, "-");
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {props.rows.length === 0 ? (
        <p className="state state-empty">No changes in this period.</p>
      ) : (
        <table className="failure-table">
          <thead>
            <tr>
              <th scope="col">{props.title.endsWith("kind") ? "Kind" : "Service"}</th>
              <th scope="col" className="numeric">
                Changes
              </th>
              <th scope="col" className="numeric">
                Failed
              </th>
              <th scope="col">Rate</th>
              <th scope="col" className="numeric">
                Rollbacks
              </th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr key={row.key}>
                <td>{props.label(row.key)}</td>
                <td className="numeric">{row.changes}</td>
                <td className="numeric">{row.failed}</td>
                <td>
                  <span className="rate-bar" aria-hidden="true">
                    <span style={{ width: `${Math.round((row.changeFailureRate ?? 0) * 100)}%` }} />
                  </span>
                  {row.changeFailureRate === null ? "–" : formatPercent(row.changeFailureRate)}
                </td>
                <td className="numeric">{row.rollbacks}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
