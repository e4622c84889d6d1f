/**
 * Lenient readers for fields of third-party webhook payloads. CI/CD systems change their payloads over
 * time and users template some of them (Argo CD), so odd values degrade to null instead of failing
 * the whole delivery; only what identifies a change is required by the mappers.
 */

/** A trimmed string without control characters, cut to `max` characters; null when empty or not a string. */
export function cleanText(value: unknown, max = 256): string | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  const text = withoutControlCharacters(String(value)).trim().slice(0, max);
  return text === "" ? null : text;
}

/** An http(s) URL, else null: other schemes (`javascript:`) would become live links in the UI. */
export function httpUrlOrNull(value: unknown): string | null {
  const text = cleanText(value, 2048);
  if (text === null) return null;
  try {
    const protocol = new URL(text).protocol;
    return protocol === "http:" || protocol === "https:" ? text : null;
  } catch {
    return null;
  }
}

/**
 * A timestamp from ISO-8601, GitLab's `2021-04-28 21:50:00 +0200` form, or epoch milliseconds; null
 * when unreadable or before 1970 (a year-0001 default is not a real time).
 */
export function parseTimestamp(value: unknown): Date | null {
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") {
    const gitlab = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ?(UTC|[+-]\d{2}:?\d{2})$/.exec(
      value.trim(),
    );
    if (gitlab) {
      const zone = gitlab[3] === "UTC" ? "Z" : (gitlab[3] ?? "").replace(/^([+-]\d{2}):?(\d{2})$/, "$1:$2");
      ms = Date.parse(`${gitlab[1]}T${gitlab[2]}${zone}`);
    } else if (/^\d{4}-\d{2}-\d{2}T/.test(value.trim())) ms = Date.parse(value.trim());
    else return null;
  } else return null;
  if (!Number.isFinite(ms) || ms < 0 || ms > 8_640_000_000_000_000) return null;
  return new Date(ms);
}

/** A plain JSON object (not an array), or null. */
export function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function withoutControlCharacters(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += code < 0x20 || code === 0x7f ? " " : text[i];
  }
  return out;
}
