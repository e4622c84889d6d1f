/**
 * The sections a template may place with `{{name}}`. Each is generated Markdown (a paragraph or a list)
 * with every piece of untrusted text escaped.
 */
export const postmortemPlaceholders = [
  "title",
  "incident_id",
  "summary",
  "impact",
  "detection",
  "timeline",
  "root_cause",
  "resolution",
  "charts",
  "went_well",
  "went_badly",
  "got_lucky",
  "action_items",
] as const;
export type PostmortemPlaceholder = (typeof postmortemPlaceholders)[number];
export type PostmortemSections = Record<PostmortemPlaceholder, string>;

export interface BuiltInPostmortemTemplate {
  id: string;
  name: string;
  description: string;
  body: string;
}

const googleSreBody = `# {{title}}

Incident {{incident_id}}. Blameless: this document is about systems and processes, not people.

## Summary

{{summary}}

## Impact

{{impact}}

## Detection

{{detection}}

## Root cause and trigger

{{root_cause}}

## Resolution

{{resolution}}

## Charts

{{charts}}

## Timeline

{{timeline}}

## Lessons learned

### What went well

{{went_well}}

### What went wrong

{{went_badly}}

### Where we got lucky

{{got_lucky}}

## Action items

{{action_items}}

## Supporting information

_Links to dashboards, chat threads and tickets._
`;

const lightweightBody = `# {{title}}

## What happened

{{summary}}

{{impact}}

## Why

{{root_cause}}

## How it was fixed

{{resolution}}

## Timeline

{{timeline}}

## Follow-ups

{{action_items}}
`;

/** The templates every installation starts with; teams edit their copies in storage. */
export const builtInPostmortemTemplates: readonly BuiltInPostmortemTemplate[] = [
  {
    id: "google-sre",
    name: "Full (Google SRE style)",
    description:
      "Summary, impact, detection, root cause and trigger, resolution, timeline, lessons, action items.",
    body: googleSreBody,
  },
  {
    id: "lightweight",
    name: "Lightweight",
    description: "What happened, why, how it was fixed, timeline and follow-ups.",
    body: lightweightBody,
  },
];

const placeholderPattern = /\{\{\s*([a-zA-Z_]+)\s*\}\}/g;

/**
 * Fills a template's `{{name}}` placeholders with the generated sections in one pass, so text inside a
 * section (which may contain `{{…}}` from the data) is never expanded again. Unknown placeholders are
 * left as they are, for the author to see and fix.
 */
export function renderPostmortemTemplate(templateBody: string, sections: PostmortemSections): string {
  return templateBody.replace(placeholderPattern, (whole, name: string) =>
    (postmortemPlaceholders as readonly string[]).includes(name)
      ? sections[name as PostmortemPlaceholder]
      : whole,
  );
}

/** Placeholders in a template that no section fills (shown as a warning when a team edits it). */
export function unknownTemplatePlaceholders(templateBody: string): string[] {
  const unknown = new Set<string>();
  for (const match of templateBody.matchAll(placeholderPattern)) {
    const name = match[1] ?? "";
    if (!(postmortemPlaceholders as readonly string[]).includes(name)) unknown.add(name);
  }
  return [...unknown];
}
