import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { useSearchParams } from "react-router";
import { QueryState } from "../components/query-state.tsx";
import { IdField, SettingsForm } from "../components/settings-form.tsx";
import { SettingsSection } from "../components/settings-section.tsx";
import "../components/notifications.css";
import { apiErrorText } from "../api-error-text.ts";
import { formatDateTime, formatMs } from "../format.ts";
import { type Outputs, useTRPC } from "../trpc.ts";

type Config = Outputs["notifications"]["config"];
type Destination = Config["destinations"][number];
type Rule = Config["rules"][number];
type Mute = Config["mutes"][number];
type Section = "destination" | "rule" | "mute";

/** Secrets set through the UI may only come from these variables (the API enforces it too). */
const secretPrefix = "FAULTLINE_NOTIFY_";
const kinds = ["webhook", "slack", "pagerduty", "email"] as const;
const kindLabels: Record<Destination["kind"], string> = {
  webhook: "Generic webhook",
  slack: "Slack",
  pagerduty: "PagerDuty",
  email: "Email",
};
const severities = ["sev1", "sev2", "sev3", "sev4"] as const;
const signals = ["error_rate", "throughput", "latency", "browser_errors"] as const;
const eventKinds = ["opened", "escalated", "cause_changed", "resolved", "reopened", "acknowledged"] as const;

/**
 * `/notifications?edit=<destination|rule|mute>:<id|new>`: where pages go (destinations), which
 * incidents go where (routing rules) and when nobody is paged (maintenance mutes). Rows from the
 * `--notify-config` file are shown and marked; they are changed in the file, not here.
 */
export function NotificationsPage() {
  const trpc = useTRPC();
  const config = useQuery(trpc.notifications.config.queryOptions());
  const [params, setParams] = useSearchParams();
  const [section, editingId] = (params.get("edit") ?? "").split(":", 2) as [string, string | undefined];
  const edit = (what: Section, id: string) => setParams({ edit: `${what}:${id}` });
  const close = () => setParams({});
  const editing = (what: Section) => (section === what ? (editingId ?? null) : null);
  return (
    <div className="page notifications-page">
      <div className="page-header">
        <h1>Notifications</h1>
      </div>
      <p className="muted page-intro">
        Who is paged when an incident opens, escalates, gets a cause or resolves. Secrets are never entered or
        shown here: the server reads them from environment variables named <code>{secretPrefix}*</code>.
      </p>
      <QueryState label="the notification settings" isPending={config.isPending} error={config.error}>
        {config.data && (
          <>
            <DestinationsSection
              config={config.data}
              editingId={editing("destination")}
              onEdit={(id) => edit("destination", id)}
              onClose={close}
            />
            <RulesSection
              config={config.data}
              editingId={editing("rule")}
              onEdit={(id) => edit("rule", id)}
              onClose={close}
            />
            <MutesSection
              config={config.data}
              editingId={editing("mute")}
              onEdit={(id) => edit("mute", id)}
              onClose={close}
            />
          </>
        )}
      </QueryState>
    </div>
  );
}

function useInvalidateConfig() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: trpc.notifications.config.queryKey() });
}

/** A save's mutation options: once saved, the settings are read again and the editor closes. */
function useSavedThen(onDone: () => void) {
  const invalidate = useInvalidateConfig();
  return {
    onSuccess: async () => {
      await invalidate();
      onDone();
    },
  };
}

function SourceBadge(props: { source: "file" | "api" }) {
  return props.source === "file" ? (
    <span className="badge badge-file" title="Managed by the --notify-config file; change it there">
      config file
    </span>
  ) : (
    <span className="badge badge-api">UI / API</span>
  );
}

/** Edit and delete, or why not: rows from the config file are changed in the file. */
function RowActions(props: {
  label: string;
  source: "file" | "api";
  onEdit: () => void;
  onDelete: () => Promise<unknown>;
  children?: ReactNode;
}) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  return (
    <div className="row-actions">
      {props.children}
      {props.source === "api" ? (
        <>
          <button type="button" onClick={props.onEdit} aria-label={`Edit ${props.label}`}>
            Edit
          </button>
          {confirming ? (
            <>
              <button
                type="button"
                className="danger"
                disabled={deleting}
                onClick={() => {
                  setDeleting(true);
                  setError(null);
                  props
                    .onDelete()
                    .catch((caught: unknown) => setError(apiErrorText(caught)))
                    .finally(() => {
                      setDeleting(false);
                      setConfirming(false);
                    });
                }}
              >
                {deleting ? "Deleting…" : `Delete ${props.label}`}
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirming(true)} aria-label={`Delete ${props.label}…`}>
              Delete…
            </button>
          )}
        </>
      ) : (
        <span className="muted">edit in the file</span>
      )}
      {error && (
        <span className="state-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Where the destination sends, and which secret it reads, without ever showing a secret. */
function DestinationTarget(props: { destination: Destination }) {
  const { settings, kind } = props.destination;
  const lines: ReactNode[] = [];
  if (kind === "email") lines.push(<span key="to">to {(settings.to ?? []).join(", ")}</span>);
  else if (settings.url) lines.push(<code key="url">{settings.url}</code>);
  else if (kind === "pagerduty") lines.push(<span key="pd">PagerDuty Events API v2</span>);
  const secrets: [string, string | undefined][] = [
    ["URL", settings.urlEnv],
    ["signing secret", settings.secretEnv],
    ["routing key", settings.routingKeyEnv],
  ];
  for (const [what, env] of secrets) {
    if (env) {
      lines.push(
        <span key={what} className="secret-ref">
          {what} set via <code>{env}</code>
        </span>,
      );
    }
  }
  if (kind === "webhook" && !settings.secretEnv) {
    lines.push(
      <span key="unsigned" className="muted">
        unsigned
      </span>,
    );
  }
  return <div className="target-lines">{lines}</div>;
}

function DestinationsSection(props: {
  config: Config;
  editingId: string | null;
  onEdit: (id: string) => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const invalidate = useInvalidateConfig();
  const remove = useMutation(trpc.notifications.deleteDestination.mutationOptions({ onSuccess: invalidate }));
  const { destinations } = props.config;
  const editing =
    props.editingId === "new" ? null : destinations.find((destination) => destination.id === props.editingId);
  return (
    <SettingsSection
      id="destinations"
      title="Destinations"
      count={destinations.length}
      addLabel="Add destination"
      onAdd={() => props.onEdit("new")}
      empty={
        <>
          No destinations yet: add one, or list them in the file given to <code>--notify-config</code>.
        </>
      }
      columns={[
        "Destination",
        "Kind",
        "Target and secrets",
        { label: "Per minute", numeric: true },
        "Managed by",
        "Actions",
      ]}
      editor={
        props.editingId === null ? null : editing || props.editingId === "new" ? (
          <DestinationForm key={props.editingId} destination={editing ?? null} onDone={props.onClose} />
        ) : (
          <p className="state state-error" role="alert">
            No destination {props.editingId}.
          </p>
        )
      }
    >
      {destinations.map((destination) => (
        <tr key={destination.id} className={destination.enabled ? undefined : "row-disabled"}>
          <th scope="row">
            <strong>{destination.name}</strong>
            {destination.name !== destination.id && <div className="muted">{destination.id}</div>}
            {!destination.enabled && <div className="muted">disabled</div>}
          </th>
          <td>{kindLabels[destination.kind]}</td>
          <td>
            <DestinationTarget destination={destination} />
          </td>
          <td className="num">{destination.rateLimitPerMinute}</td>
          <td>
            <SourceBadge source={destination.source} />
          </td>
          <td>
            <RowActions
              label={destination.name}
              source={destination.source}
              onEdit={() => props.onEdit(destination.id)}
              onDelete={() => remove.mutateAsync({ id: destination.id })}
            >
              <SendTestButton destination={destination} />
            </RowActions>
          </td>
        </tr>
      ))}
    </SettingsSection>
  );
}

/** Sends a test message now, through the server's delivery worker, and shows what the receiver said. */
function SendTestButton(props: { destination: Destination }) {
  const trpc = useTRPC();
  const send = useMutation(trpc.notifications.sendTest.mutationOptions());
  const result = send.data;
  return (
    <>
      <button
        type="button"
        disabled={send.isPending}
        onClick={() => send.mutate({ id: props.destination.id })}
        aria-label={`Send a test message to ${props.destination.name}`}
      >
        {send.isPending ? "Sending…" : "Send test"}
      </button>
      <span className="test-result" role="status" aria-live="polite">
        {result?.ok && (
          <span className="test-ok">
            Delivered{result.statusCode !== null ? ` (HTTP ${result.statusCode})` : ""} in{" "}
            {formatMs(result.durationMs)}
          </span>
        )}
        {result && !result.ok && <span className="state-error">Failed: {result.error}</span>}
        {send.error && <span className="state-error">Failed: {apiErrorText(send.error)}</span>}
      </span>
    </>
  );
}

function DestinationForm(props: { destination: Destination | null; onDone: () => void }) {
  const trpc = useTRPC();
  const existing = props.destination;
  const settings = existing?.settings ?? {};
  const [kind, setKind] = useState<Destination["kind"]>(existing?.kind ?? "webhook");
  const [id, setId] = useState(existing?.id ?? "");
  const [name, setName] = useState(existing?.name ?? "");
  const [url, setUrl] = useState(existing?.kind === "webhook" ? (settings.url ?? "") : "");
  const [urlEnv, setUrlEnv] = useState(settings.urlEnv ?? "");
  const [secretEnv, setSecretEnv] = useState(settings.secretEnv ?? "");
  const [routingKeyEnv, setRoutingKeyEnv] = useState(settings.routingKeyEnv ?? "");
  const [to, setTo] = useState((settings.to ?? []).join(", "));
  const [rateLimit, setRateLimit] = useState(String(existing?.rateLimitPerMinute ?? 30));
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const save = useMutation(trpc.notifications.upsertDestination.mutationOptions(useSavedThen(props.onDone)));
  const submit = () => {
    const base = {
      id: id.trim(),
      name: name.trim() || undefined,
      enabled,
      rateLimitPerMinute: Number(rateLimit),
    };
    const optional = (value: string) => (value.trim() ? value.trim() : undefined);
    switch (kind) {
      case "webhook":
        save.mutate({ ...base, kind, url: url.trim(), secretEnv: optional(secretEnv) });
        break;
      case "slack":
        save.mutate({ ...base, kind, urlEnv: optional(urlEnv) });
        break;
      case "pagerduty":
        save.mutate({ ...base, kind, routingKeyEnv: routingKeyEnv.trim() });
        break;
      case "email":
        save.mutate({
          ...base,
          kind,
          to: to
            .split(/[,\s]+/)
            .map((one) => one.trim())
            .filter(Boolean),
        });
        break;
    }
  };
  const envField = (label: string, value: string, set: (value: string) => void, required: boolean) => (
    <label>
      {label}
      <input
        value={value}
        onChange={(event) => set(event.target.value)}
        placeholder={`${secretPrefix}…`}
        pattern={`${secretPrefix}[A-Za-z0-9_]+`}
        title={`An environment variable of the server whose name starts with ${secretPrefix}`}
        required={required}
        spellCheck={false}
        autoComplete="off"
      />
      <span className="hint">
        The name of an environment variable on the server ({secretPrefix}…). The value is never entered or
        shown here.
      </span>
    </label>
  );
  return (
    <SettingsForm
      label={existing ? `Edit destination ${existing.name}` : "New destination"}
      title={existing ? `Edit ${existing.name}` : "New destination"}
      saveLabel="Save destination"
      onSubmit={submit}
      onCancel={props.onDone}
      isPending={save.isPending}
      error={save.error}
    >
      <label>
        Kind
        <select value={kind} onChange={(event) => setKind(event.target.value as Destination["kind"])}>
          {kinds.map((one) => (
            <option key={one} value={one}>
              {kindLabels[one]}
            </option>
          ))}
        </select>
      </label>
      <IdField value={id} onChange={setId} readOnly={existing !== null} />
      <label>
        Name
        <input
          value={name}
          onChange={(event) => setName(event.target.value)}
          maxLength={200}
          placeholder="as shown on incidents"
        />
      </label>
      {kind === "webhook" && (
        <>
          <label className="wide">
            URL
            <input
              type="url"
              value={url}
              onChange={(event) => setUrl(event.target.value)}
              required
              placeholder="https://hooks.example.com/faultline"
              spellCheck={false}
            />
          </label>
          {envField("Signing secret variable (optional)", secretEnv, setSecretEnv, false)}
        </>
      )}
      {kind === "slack" &&
        envField("Incoming-webhook URL variable (the URL holds a token)", urlEnv, setUrlEnv, true)}
      {kind === "pagerduty" && envField("Routing key variable", routingKeyEnv, setRoutingKeyEnv, true)}
      {kind === "email" && (
        <label className="wide">
          Recipients
          <input
            value={to}
            onChange={(event) => setTo(event.target.value)}
            required
            placeholder="sre@example.com, oncall@example.com"
          />
          <span className="hint">The SMTP server is set in the config file.</span>
        </label>
      )}
      <label>
        Messages per minute
        <input
          type="number"
          min={1}
          max={10000}
          value={rateLimit}
          onChange={(event) => setRateLimit(event.target.value)}
          required
        />
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
        Enabled
      </label>
    </SettingsForm>
  );
}

const anyOf = (values: string[], none = "any") => (values.length === 0 ? none : values.join(", "));

function RulesSection(props: {
  config: Config;
  editingId: string | null;
  onEdit: (id: string) => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const invalidate = useInvalidateConfig();
  const remove = useMutation(trpc.notifications.deleteRule.mutationOptions({ onSuccess: invalidate }));
  const { rules, destinations } = props.config;
  const nameOf = (id: string) => destinations.find((destination) => destination.id === id)?.name ?? id;
  const editing = props.editingId === "new" ? null : rules.find((rule) => rule.id === props.editingId);
  return (
    <SettingsSection
      id="rules"
      title="Routing rules"
      count={rules.length}
      addLabel="Add rule"
      addDisabled={destinations.length === 0}
      onAdd={() => props.onEdit("new")}
      intro="A rule sends the incidents it matches to its destination; every filled criterion must match, an empty one matches anything. Services are globs on the root or any affected service."
      empty={
        destinations.length === 0
          ? "No rules: add a destination first."
          : "No rules: nothing is paged until a rule routes to a destination."
      }
      columns={[
        "Rule",
        "Destination",
        "Environments",
        "Services",
        "Severity",
        "Signals",
        "Events",
        "Managed by",
        "Actions",
      ]}
      editor={
        props.editingId !== null &&
        (editing || props.editingId === "new") && (
          <RuleForm
            key={props.editingId}
            rule={editing ?? null}
            destinations={destinations}
            onDone={props.onClose}
          />
        )
      }
    >
      {rules.map((rule) => (
        <tr key={rule.id} className={rule.enabled ? undefined : "row-disabled"}>
          <th scope="row">
            {rule.id}
            {!rule.enabled && <div className="muted">disabled</div>}
          </th>
          <td>{nameOf(rule.destinationId)}</td>
          <td>{anyOf(rule.environments)}</td>
          <td>{anyOf(rule.services)}</td>
          <td>{rule.minSeverity === "sev4" ? "any" : `${rule.minSeverity} or worse`}</td>
          <td>{anyOf(rule.signals.map((one) => one.replace("_", " ")))}</td>
          <td>
            {anyOf(
              rule.events.map((one) => one.replace("_", " ")),
              "all",
            )}
          </td>
          <td>
            <SourceBadge source={rule.source} />
          </td>
          <td>
            <RowActions
              label={`rule ${rule.id}`}
              source={rule.source}
              onEdit={() => props.onEdit(rule.id)}
              onDelete={() => remove.mutateAsync({ id: rule.id })}
            />
          </td>
        </tr>
      ))}
    </SettingsSection>
  );
}

const listOf = (text: string) =>
  text
    .split(",")
    .map((one) => one.trim())
    .filter(Boolean);

function CheckboxGroup<T extends string>(props: {
  legend: string;
  options: readonly T[];
  chosen: T[];
  onChange: (chosen: T[]) => void;
  hint: string;
}) {
  return (
    <fieldset className="checkbox-group">
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <label key={option} className="checkbox">
          <input
            type="checkbox"
            checked={props.chosen.includes(option)}
            onChange={(event) =>
              props.onChange(
                event.target.checked
                  ? [...props.chosen, option]
                  : props.chosen.filter((one) => one !== option),
              )
            }
          />
          {option.replace("_", " ")}
        </label>
      ))}
      <span className="hint">{props.hint}</span>
    </fieldset>
  );
}

function RuleForm(props: { rule: Rule | null; destinations: Destination[]; onDone: () => void }) {
  const trpc = useTRPC();
  const existing = props.rule;
  const [id, setId] = useState(existing?.id ?? "");
  const [destination, setDestination] = useState(existing?.destinationId ?? props.destinations[0]?.id ?? "");
  const [environments, setEnvironments] = useState((existing?.environments ?? []).join(", "));
  const [services, setServices] = useState((existing?.services ?? []).join(", "));
  const [minSeverity, setMinSeverity] = useState<Rule["minSeverity"]>(existing?.minSeverity ?? "sev4");
  const [chosenSignals, setSignals] = useState(
    (existing?.signals ?? []).filter((one): one is (typeof signals)[number] =>
      (signals as readonly string[]).includes(one),
    ),
  );
  const [chosenEvents, setEvents] = useState(
    (existing?.events ?? []).filter((one): one is (typeof eventKinds)[number] =>
      (eventKinds as readonly string[]).includes(one),
    ),
  );
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const save = useMutation(trpc.notifications.upsertRule.mutationOptions(useSavedThen(props.onDone)));
  const submit = () =>
    save.mutate({
      id: id.trim(),
      destination,
      environments: listOf(environments),
      services: listOf(services),
      minSeverity,
      signals: chosenSignals,
      events: chosenEvents,
      enabled,
    });
  return (
    <SettingsForm
      label={existing ? `Edit rule ${existing.id}` : "New rule"}
      title={existing ? `Edit rule ${existing.id}` : "New rule"}
      saveLabel="Save rule"
      onSubmit={submit}
      onCancel={props.onDone}
      isPending={save.isPending}
      error={save.error}
    >
      <IdField value={id} onChange={setId} readOnly={existing !== null} />
      <label>
        Destination
        <select value={destination} onChange={(event) => setDestination(event.target.value)} required>
          {props.destinations.map((one) => (
            <option key={one.id} value={one.id}>
              {one.name} ({kindLabels[one.kind]})
            </option>
          ))}
        </select>
      </label>
      <label>
        Environments
        <input
          value={environments}
          onChange={(event) => setEnvironments(event.target.value)}
          placeholder="any (e.g. production, staging)"
        />
      </label>
      <label>
        Services
        <input
          value={services}
          onChange={(event) => setServices(event.target.value)}
          placeholder="any (globs, e.g. identity*, dm-*)"
        />
      </label>
      <label>
        Severity
        <select
          value={minSeverity}
          onChange={(event) => setMinSeverity(event.target.value as Rule["minSeverity"])}
        >
          {severities.map((one) => (
            <option key={one} value={one}>
              {one === "sev4" ? "any severity" : `${one} or worse`}
            </option>
          ))}
        </select>
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
        Enabled
      </label>
      <CheckboxGroup
        legend="Signals"
        options={signals}
        chosen={chosenSignals}
        onChange={setSignals}
        hint="none ticked: any signal"
      />
      <CheckboxGroup
        legend="Events"
        options={eventKinds}
        chosen={chosenEvents}
        onChange={setEvents}
        hint="none ticked: every event"
      />
    </SettingsForm>
  );
}

function muteState(mute: Mute, nowMs: number): "active" | "upcoming" | "ended" {
  if (nowMs < mute.startsAtMs) return "upcoming";
  return nowMs < mute.endsAtMs ? "active" : "ended";
}

function MutesSection(props: {
  config: Config;
  editingId: string | null;
  onEdit: (id: string) => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const invalidate = useInvalidateConfig();
  const remove = useMutation(trpc.notifications.deleteMute.mutationOptions({ onSuccess: invalidate }));
  const { mutes } = props.config;
  const nowMs = Date.now();
  const editing = props.editingId === "new" ? null : mutes.find((mute) => mute.id === props.editingId);
  return (
    <SettingsSection
      id="mutes"
      title="Maintenance windows"
      count={mutes.length}
      addLabel="Add maintenance window"
      onAdd={() => props.onEdit("new")}
      intro="During a window, incidents on the matching services or environment are still recorded, but nobody is paged; the incident shows the page as suppressed."
      empty="No maintenance windows."
      columns={[
        "Window",
        "Environment",
        "Services",
        "From",
        "Until",
        "Now",
        "Reason",
        "Managed by",
        "Actions",
      ]}
      editor={
        props.editingId !== null &&
        (editing || props.editingId === "new") && (
          <MuteForm key={props.editingId} mute={editing ?? null} onDone={props.onClose} />
        )
      }
    >
      {mutes.map((mute) => {
        const state = muteState(mute, nowMs);
        return (
          <tr key={mute.id} className={state === "ended" ? "row-disabled" : undefined}>
            <th scope="row">
              {mute.id}
              {mute.createdBy && <div className="muted">by {mute.createdBy}</div>}
            </th>
            <td>{mute.environment ?? "all"}</td>
            <td>{mute.service ?? "all"}</td>
            <td>{formatDateTime(mute.startsAtMs)}</td>
            <td>{formatDateTime(mute.endsAtMs)}</td>
            <td>
              <span className={`badge mute-${state}`}>{state}</span>
            </td>
            <td className="reason">{mute.reason || "–"}</td>
            <td>
              <SourceBadge source={mute.source} />
            </td>
            <td>
              <RowActions
                label={`window ${mute.id}`}
                source={mute.source}
                onEdit={() => props.onEdit(mute.id)}
                onDelete={() => remove.mutateAsync({ id: mute.id })}
              />
            </td>
          </tr>
        );
      })}
    </SettingsSection>
  );
}

/** `<input type="datetime-local">` speaks the browser's local time without a zone. */
function toLocalInput(ms: number): string {
  const date = new Date(ms);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value: string): string {
  return new Date(value).toISOString();
}

function MuteForm(props: { mute: Mute | null; onDone: () => void }) {
  const trpc = useTRPC();
  const existing = props.mute;
  const [nowMs] = useState(Date.now);
  const [id, setId] = useState(existing?.id ?? "");
  const [environment, setEnvironment] = useState(existing?.environment ?? "");
  const [service, setService] = useState(existing?.service ?? "");
  const [from, setFrom] = useState(toLocalInput(existing?.startsAtMs ?? nowMs));
  const [until, setUntil] = useState(toLocalInput(existing?.endsAtMs ?? nowMs + 60 * 60_000));
  const [reason, setReason] = useState(existing?.reason ?? "");
  const save = useMutation(trpc.notifications.upsertMute.mutationOptions(useSavedThen(props.onDone)));
  const submit = () =>
    save.mutate({
      id: id.trim(),
      environment: environment.trim() || null,
      service: service.trim() || null,
      from: fromLocalInput(from),
      until: fromLocalInput(until),
      reason,
    });
  return (
    <SettingsForm
      label={existing ? `Edit maintenance window ${existing.id}` : "New maintenance window"}
      title={existing ? `Edit window ${existing.id}` : "New maintenance window"}
      saveLabel="Save window"
      onSubmit={submit}
      onCancel={props.onDone}
      isPending={save.isPending}
      error={save.error}
    >
      <IdField value={id} onChange={setId} readOnly={existing !== null} placeholder="identity-upgrade" />
      <label>
        Environment
        <input
          value={environment}
          onChange={(event) => setEnvironment(event.target.value)}
          placeholder="all environments"
        />
      </label>
      <label>
        Service
        <input
          value={service}
          onChange={(event) => setService(event.target.value)}
          placeholder="all services (glob on the root service)"
        />
      </label>
      <label>
        From (local time)
        <input
          type="datetime-local"
          value={from}
          onChange={(event) => setFrom(event.target.value)}
          required
        />
      </label>
      <label>
        Until (local time)
        <input
          type="datetime-local"
          value={until}
          onChange={(event) => setUntil(event.target.value)}
          required
        />
      </label>
      <label className="wide">
        Reason
        <input
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          maxLength={500}
          placeholder="planned session store upgrade"
        />
      </label>
    </SettingsForm>
  );
}
