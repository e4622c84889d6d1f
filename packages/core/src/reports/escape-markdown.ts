/**
 * Makes untrusted text (service names, incident titles, evidence lines, versions) safe to place inline
 * in Markdown, including inside a GFM table cell: it renders as the same literal text and never as
 * HTML, a link, an image, emphasis, code or an extra table column.
 *
 * - Newlines (and other line separators) become spaces: a newline would end a table row or paragraph
 *   and let the rest of the text start its own block (a heading, a raw HTML block).
 * - C0 control characters are dropped: they have no meaning in a report and confuse terminals.
 * - `\` `` ` `` `*` `_` `[` `]` `|` `~` `#` get a backslash: emphasis, code spans, link and image
 *   brackets, table cell separators, strikethrough, headings. The backslash itself goes first so an
 *   input `\|` cannot cancel our escape.
 * - `&` `<` `>` become entities rather than backslash escapes, because not every renderer honours
 *   `\<` (the original Markdown.pl does not) while every one decodes `&lt;` to a harmless literal.
 * - `:` before `//` and the `.` of a leading `www.` get a backslash, so GFM's bare-URL autolinking
 *   does not turn an attacker's `https://…` in a title into a clickable link in the report.
 *
 * Text is never placed at the start of a line by the renderers, so list and block markers (`-`, `1.`)
 * need no escaping here.
 */
export function escapeMarkdown(text: string): string {
  return (
    text
      .replace(/\r\n|[\n\r\u0085\u2028\u2029]/g, " ")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "")
      .replace(/[\\`*_[\]|~#]/g, "\\$&")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/:(?=\/\/)/g, "\\:")
      .replace(/\b(www)\./gi, "$1\\.")
  );
}
