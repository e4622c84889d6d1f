import type { Element, Root, RootContent } from "hast";
import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";
import { buildPostmortemDraft } from "./build-postmortem-draft.ts";
import { builtInPostmortemTemplates } from "./postmortem-templates.ts";
import { at, identityOutageFacts, testChange } from "./postmortem-test-facts.ts";
import { renderPostmortemExport } from "./render-postmortem-export.ts";
import { renderPostmortemHtml, renderPostmortemTree } from "./render-postmortem-html.ts";
import { activeContentIn, xssCorpus } from "./xss-corpus.ts";

/** Parses HTML the way a browser would be asked to, to look at elements and attributes, not text. */
function elementsOf(html: string): { tag: string; attributes: Record<string, string> }[] {
  const elements: { tag: string; attributes: Record<string, string> }[] = [];
  for (const match of html.matchAll(/<([a-zA-Z][\w:-]*)([^>]*)>/g)) {
    const attributes: Record<string, string> = {};
    for (const attribute of (match[2] ?? "").matchAll(/([^\s=/]+)(?:="([^"]*)")?/g)) {
      attributes[(attribute[1] ?? "").toLowerCase()] = attribute[2] ?? "";
    }
    elements.push({ tag: (match[1] ?? "").toLowerCase(), attributes });
  }
  return elements;
}

/** A CommonMark renderer that passes raw HTML through, as some Markdown viewers do. */
const permissiveRenderer = new MarkdownIt({ html: true, linkify: true });

const allowedTags = new Set([
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "p",
  "ul",
  "ol",
  "li",
  "a",
  "em",
  "strong",
  "code",
  "pre",
  "blockquote",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "hr",
  "br",
  "del",
  "input",
  "img",
  "section",
  "sup",
]);

function expectHarmless(html: string): void {
  expect(activeContentIn(html)).toEqual([]);
  for (const element of elementsOf(html)) {
    expect(allowedTags, `<${element.tag}> in ${html}`).toContain(element.tag);
    for (const [name, value] of Object.entries(element.attributes)) {
      expect(name.startsWith("on"), `${name} on <${element.tag}>`).toBe(false);
      if (name === "href" || name === "src") expect(value).toMatch(/^(https?:|mailto:|#|\/|[^:]*$)/i);
    }
  }
}

describe("renderPostmortemHtml", () => {
  it("renders ordinary Markdown: headings, lists, tables, links, code", () => {
    const html = renderPostmortemHtml(
      "# Title\n\n- one\n- [link](https://example.com/a)\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n`code`",
    );
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain('<a href="https://example.com/a">link</a>');
    expect(html).toContain("<td>1</td>");
    expect(html).toContain("<code>code</code>");
  });

  it.each(xssCorpus)("renders %j harmless", (hostile) => {
    expectHarmless(renderPostmortemHtml(hostile));
    expectHarmless(renderPostmortemHtml(`Some text ${hostile} and more`));
    expectHarmless(renderPostmortemHtml(`- item ${hostile}\n\n| a |\n| - |\n| ${hostile} |`));
  });

  it("shows raw HTML as its literal text, and keeps code spans literal", () => {
    const html = renderPostmortemHtml("before <b onclick=x>bold</b> after\n\n`<script>`");
    expect(html).not.toContain("<b");
    expect(html).toContain("before &#x3C;b onclick=x>bold&#x3C;/b> after");
    expect(html).toContain("<code>&#x3C;script></code>");
  });

  it("keeps relative and anchor links (to incidents and sections) but removes unsafe ones", () => {
    expect(renderPostmortemHtml("[incident](/incidents/inc-1)")).toContain('href="/incidents/inc-1"');
    expect(renderPostmortemHtml("[x](javascript:alert(1))")).not.toContain("javascript");
  });
});

function elementsOfTree(node: Root | RootContent): Element[] {
  const own = node.type === "element" ? [node] : [];
  const children = "children" in node ? node.children.flatMap((child) => elementsOfTree(child)) : [];
  return [...own, ...children];
}

describe("renderPostmortemTree (what the UI turns into React elements)", () => {
  it.each(xssCorpus)("holds only allowed elements and safe attributes for %j", (hostile) => {
    for (const element of elementsOfTree(renderPostmortemTree(`text ${hostile}\n\n${hostile}`))) {
      expect(allowedTags).toContain(element.tagName);
      for (const [name, value] of Object.entries(element.properties)) {
        expect(name.toLowerCase().startsWith("on"), name).toBe(false);
        expect(name).not.toBe("style");
        if (name === "href" || name === "src")
          expect(String(value)).toMatch(/^(https?:|mailto:|#|\/|[^:]*$)/i);
      }
    }
  });
});

describe("drafts from hostile incident data", () => {
  const hostileFacts = () => {
    const payload = (index: number) => xssCorpus[index % xssCorpus.length] ?? "";
    const facts = identityOutageFacts();
    facts.incident.title = payload(0);
    facts.incident.rootService = payload(1);
    facts.incident.services = xssCorpus.slice(0, 6);
    facts.incident.surfaces = xssCorpus.slice(6, 9);
    facts.incident.acknowledgedBy = payload(4);
    const cause = {
      ...testChange({ service: payload(2), commit: payload(3), description: payload(5), author: payload(9) }),
      score: 0.9,
      evidence: [...xssCorpus],
    };
    facts.cause = cause;
    facts.suspects = [cause];
    facts.events = xssCorpus.map((message, index) => ({
      atMs: at(3) + index,
      kind: "note",
      message,
      author: payload(index + 1),
    }));
    facts.laterChanges = [
      testChange({ kind: "rollback", startedAtMs: at(8), version: payload(10), commit: payload(11) }),
    ];
    facts.traffic = xssCorpus.map((service) => ({ service, requests: 10, failed: 1 }));
    return facts;
  };

  it.each(builtInPostmortemTemplates.map((template) => [template.id, template.body]))(
    "the %s draft renders harmless in the preview and published view",
    (_id, templateBody) => {
      const draft = buildPostmortemDraft({
        facts: hostileFacts(),
        templateBody,
        charts: [{ id: "c1", title: xssCorpus[0] ?? "" }],
        writtenAtMs: at(60),
      });
      expectHarmless(renderPostmortemHtml(draft.body));
      // Escaped, not dropped: the reader still sees what the data said.
      expect(renderPostmortemHtml(draft.body)).toContain("&#x3C;script>alert(1)&#x3C;/script>");
    },
  );

  it("generated text opens no link, image or raw HTML even in a renderer that passes HTML through", () => {
    const draft = buildPostmortemDraft({
      facts: hostileFacts(),
      templateBody: builtInPostmortemTemplates[0]?.body ?? "",
      charts: [],
      writtenAtMs: at(60),
    });
    // No `<` from the data survives as a character, so no renderer can see a tag in it.
    expect(draft.body).not.toMatch(/<[a-z!/]/i);
    const permissive = permissiveRenderer.render(draft.body);
    expect(activeContentIn(permissive)).toEqual([]);
    expect(permissive).not.toMatch(/<(a|img)\s/);
  });

  it("exports harmless Markdown: the author's raw HTML and unsafe links are defused", () => {
    const body = `# Notes\n\n${xssCorpus.join("\n\n")}`;
    const exported = renderPostmortemExport({
      title: "t",
      status: "published",
      incidentId: "inc-1",
      revision: 3,
      updatedAtMs: at(60),
      body,
      snapshots: [],
      actionItems: xssCorpus.map((text) => ({
        title: text,
        owner: text,
        dueDate: "2026-12-01",
        priority: "high",
        status: "open",
        link: text,
        overdue: false,
      })),
    });
    expect(activeContentIn(permissiveRenderer.render(exported))).toEqual([]);
    expect(exported).not.toMatch(/(?<!\\)\]\(\s*(javascript|data|vbscript)/i);
    expect(exported).not.toMatch(/^\[ref\]:\s*javascript/im);
    // And rendered, it stays harmless too.
    expectHarmless(renderPostmortemHtml(exported));
  });
});
