import type { Root } from "hast";
import rehypeSanitize, { defaultSchema } from "rehype-sanitize";
import rehypeStringify from "rehype-stringify";
import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import remarkRehype from "remark-rehype";
import { unified } from "unified";
import { remarkHtmlAsText } from "./remark-html-as-text.ts";

/**
 * The allow-list: GitHub's (hast-util-sanitize's default) narrowed further. Links may be http(s),
 * mailto or relative; images only http(s); no `style`, no event handlers, no form controls other than
 * GFM's disabled task-list checkboxes. Ids and names get a `user-content-` prefix so a document cannot
 * clobber the page's own globals.
 */
const schema = {
  ...defaultSchema,
  protocols: { ...defaultSchema.protocols, href: ["http", "https", "mailto"], src: ["http", "https"] },
};

const toSanitizedTree = unified()
  .use(remarkParse)
  .use(remarkGfm)
  // Raw HTML becomes literal text before the HTML tree is built (allowDangerousHtml stays off too).
  .use(remarkHtmlAsText)
  .use(remarkRehype)
  .use(rehypeSanitize, schema);

const processor = toSanitizedTree().use(rehypeStringify);

/**
 * The same sanitized document as {@link renderPostmortemHtml}, as an HTML syntax tree (hast), for a UI
 * that builds its own elements from it (React via hast-util-to-jsx-runtime) instead of parsing HTML.
 */
export function renderPostmortemTree(markdown: string): Root {
  const parser = toSanitizedTree();
  return parser.runSync(parser.parse(markdown)) as Root;
}

/**
 * Renders postmortem Markdown to HTML that is safe to insert into a page: the editor's live preview,
 * the published view and the printable export all go through here. Raw HTML shows as its literal text; no script,
 * no event-handler attribute, no `javascript:`/`data:`/`vbscript:` URL; everything else is escaped text.
 */
export function renderPostmortemHtml(markdown: string): string {
  return String(processor.processSync(markdown));
}
