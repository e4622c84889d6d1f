import type { Root } from "mdast";
import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import remarkStringify from "remark-stringify";
import { unified } from "unified";
import { visit } from "unist-util-visit";
import { remarkHtmlAsText } from "./remark-html-as-text.ts";

const safeProtocols = /^(https?:|mailto:)/i;
const hasProtocol = /^[a-z][a-z0-9+.-]*:/i;

/** Whether a URL is safe to keep in an export: http(s), mailto, or relative (no scheme at all). */
export function isSafeMarkdownUrl(url: string): boolean {
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:"), so judge it without them.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const compact = url.replace(/[\u0000-\u0020\u007f]/g, "");
  return safeProtocols.test(compact) || !hasProtocol.test(compact);
}

const processor = unified()
  .use(remarkParse)
  .use(remarkGfm)
  // Raw HTML becomes literal text: the serializer escapes it, so any renderer shows the characters.
  .use(remarkHtmlAsText)
  .use(() => (tree: Root) => {
    visit(tree, (node, index, parent) => {
      if (node.type === "html" && parent && index !== undefined) {
        // Raw HTML becomes literal text: the serializer escapes it, so any renderer shows the characters.
        parent.children[index] = { type: "text", value: node.value } as never;
        return;
      }
      if (
        (node.type === "link" || node.type === "image" || node.type === "definition") &&
        !isSafeMarkdownUrl(node.url)
      ) {
        node.url = "#unsafe-link-removed";
      }
    });
  })
  .use(remarkStringify, { bullet: "-", fences: true, rule: "-" });

/**
 * The Markdown a postmortem is exported as: the author's document re-serialized with raw HTML turned
 * into literal text and links or images with an unsafe scheme (`javascript:`, `data:`, …) defused, so
 * the file is harmless whichever Markdown renderer opens it, including ones that pass HTML through.
 */
export function sanitizePostmortemMarkdown(markdown: string): string {
  return String(processor.processSync(markdown));
}
