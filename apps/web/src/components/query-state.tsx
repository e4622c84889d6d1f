import type { ReactNode } from "react";

/** Loading, error and empty states, the same everywhere. */
export function QueryState(props: {
  isPending: boolean;
  error: { message: string } | null;
  isEmpty?: boolean;
  empty?: ReactNode;
  label: string;
  children?: ReactNode;
}): ReactNode {
  if (props.isPending) {
    return (
      <div className="state state-loading" role="status" aria-live="polite">
        <span className="spinner" aria-hidden="true" /> Loading {props.label}…
      </div>
    );
  }
  if (props.error) {
    return (
      <div className="state state-error" role="alert">
        Could not load {props.label}: {props.error.message}
      </div>
    );
  }
  if (props.isEmpty) return <div className="state state-empty">{props.empty ?? `No ${props.label}.`}</div>;
  return <>{props.children}</>;
}
