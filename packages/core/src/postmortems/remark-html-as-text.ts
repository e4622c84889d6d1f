import type { Root } from "mdast";
import { visit } from "unist-util-visit";

/**
 * A remark plugin that turns raw HTML in Markdown into literal text: an author who wrote `<b>` or
 * `<script>` sees exactly those characters, in the preview as in the export, and no renderer runs them.
 */
export function remarkHtmlAsText() {
  return (tree: Root) => {
    visit(tree, "html", (node, index, parent) => {
      if (parent && index !== undefined) parent.children[index] = { type: "text", value: node.value };
    });
  };
}
