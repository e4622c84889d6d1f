import type { ReactNode } from "react";

/**
 * One kind of setting (destinations, rules, windows…): a titled panel with an add button, a table of
 * the rows or a sentence saying there are none, and the editor open under it. Rows are the children
 * (`<tr>`s); `columns` heads them, the first naming each row.
 */
export function SettingsSection(props: {
  /** Prefix of the element ids the heading is referenced by. */
  id: string;
  title: string;
  count: number;
  addLabel: string;
  addDisabled?: boolean;
  onAdd: () => void;
  intro?: ReactNode;
  empty: ReactNode;
  columns: readonly (string | { label: string; numeric: true })[];
  children: ReactNode;
  /** The open editor, or what says it cannot open; null when none is open. */
  editor: ReactNode;
}) {
  const titleId = `${props.id}-title`;
  return (
    <section className="panel" aria-labelledby={titleId}>
      <div className="panel-header">
        <h2 id={titleId}>
          {props.title} <span className="count">{props.count}</span>
        </h2>
        <button type="button" onClick={props.onAdd} disabled={props.addDisabled}>
          {props.addLabel}
        </button>
      </div>
      {props.intro && <p className="muted">{props.intro}</p>}
      {props.count === 0 ? (
        <div className="state state-empty">{props.empty}</div>
      ) : (
        <div className="table-scroll">
          <table className="settings-table">
            <thead>
              <tr>
                {props.columns.map((column) =>
                  typeof column === "string" ? (
                    <th key={column} scope="col">
                      {column}
                    </th>
                  ) : (
                    <th key={column.label} scope="col" className="num">
                      {column.label}
                    </th>
                  ),
                )}
              </tr>
            </thead>
            <tbody>{props.children}</tbody>
          </table>
        </div>
      )}
      {props.editor}
    </section>
  );
}
