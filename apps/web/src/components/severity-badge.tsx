export function SeverityBadge(props: { severity: string }) {
  return <span className={`badge badge-${props.severity}`}>{props.severity.toUpperCase()}</span>;
}

export function StatusBadge(props: { status: string }) {
  return <span className={`badge status-${props.status}`}>{props.status}</span>;
}
