/**
 * An API error as a sentence a person can act on. tRPC reports a rejected input as the validator's
 * issues in JSON; those become "field: problem" lines instead of raw JSON.
 */
export function apiErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!message.trimStart().startsWith("[")) return message;
  try {
    const issues = JSON.parse(message) as { path?: (string | number)[]; message?: string }[];
    if (!Array.isArray(issues)) return message;
    return issues
      .map((issue) => {
        const path = (issue.path ?? []).join(".");
        return path ? `${path}: ${issue.message ?? "invalid"}` : (issue.message ?? "invalid");
      })
      .join("; ");
  } catch {
    return message;
  }
}
