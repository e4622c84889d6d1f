import { type FormEvent, type KeyboardEvent, type ReactNode, useEffect, useRef } from "react";
import { apiErrorText } from "../api-error-text.ts";

/**
 * The editor that opens under a settings table: it takes the focus (its first field that can be
 * edited) so keyboard users need not tab through the table to reach it, Escape closes it, and it shows
 * the server's refusal in place. The fields are its children.
 */
export function SettingsForm(props: {
  /** The form's accessible name, e.g. "Edit rule sev1" or "New rule". */
  label: string;
  title: string;
  saveLabel: string;
  onSubmit: () => void;
  onCancel: () => void;
  isPending: boolean;
  error: unknown;
  children: ReactNode;
}) {
  const { onCancel } = props;
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    const first = ref.current?.querySelector<HTMLElement>(
      "input:not([readonly]):not([type=hidden]), select, textarea",
    );
    first?.focus();
    ref.current?.scrollIntoView?.({ block: "nearest" });
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLFormElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
  };
  return (
    <form
      ref={ref}
      className="settings-form"
      onSubmit={submit}
      onKeyDown={onKeyDown}
      aria-label={props.label}
    >
      <h3>{props.title}</h3>
      <div className="form-grid">{props.children}</div>
      {props.error ? (
        <p className="state-error" role="alert">
          {apiErrorText(props.error)}
        </p>
      ) : null}
      <div className="form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={props.isPending}>
          {props.isPending ? "Saving…" : props.saveLabel}
        </button>
      </div>
    </form>
  );
}

const idPattern = "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}";

/** A settings row's id: the API's id rule, fixed once the row exists (the id is its key). */
export function IdField(props: {
  value: string;
  onChange: (value: string) => void;
  readOnly: boolean;
  placeholder?: string;
}) {
  return (
    <label>
      Id
      <input
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
        required
        pattern={idPattern}
        title="1-64 letters, digits, '.', '_' or '-'"
        readOnly={props.readOnly}
        spellCheck={false}
        placeholder={props.placeholder}
      />
    </label>
  );
}
