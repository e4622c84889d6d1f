// @vitest-environment jsdom

import { xssCorpus } from "@faultline/core";
import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { PostmortemDocument } from "./postmortem-document.tsx";

afterEach(cleanup);

/** Everything in the rendered DOM that could run: elements, handler attributes, script URLs. */
function activeContent(container: HTMLElement): string[] {
  const found: string[] = [];
  for (const element of container.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    if (["script", "iframe", "svg", "math", "style", "object", "embed", "details"].includes(tag))
      found.push(`<${tag}>`);
    for (const attribute of element.attributes) {
      if (attribute.name.startsWith("on") || attribute.name === "style")
        found.push(`${tag}[${attribute.name}]`);
      if (
        ["href", "src", "xlink:href"].includes(attribute.name) &&
        /^\s*(javascript|data|vbscript):/i.test(attribute.value)
      ) {
        found.push(`${tag}[${attribute.name}=${attribute.value}]`);
      }
    }
  }
  return found;
}

describe("PostmortemDocument (editor preview, published view, print)", () => {
  it.each(xssCorpus)("renders %j without anything that runs", (hostile) => {
    const { container } = render(
      <PostmortemDocument markdown={`# Notes\n\n${hostile}\n\n- ${hostile}`} snapshots={[]} />,
    );
    expect(activeContent(container)).toEqual([]);
  });

  it("shows raw HTML as the characters typed and keeps ordinary Markdown", () => {
    const { container } = render(
      <PostmortemDocument
        markdown={
          "## Impact\n\nSee <b onclick=alert(1)>this</b> and [the runbook](https://runbooks.example/dm)."
        }
        snapshots={[]}
      />,
    );
    expect(container.querySelector("h2")?.textContent).toBe("Impact");
    expect(container.textContent).toContain("See <b onclick=alert(1)>this</b>");
    expect(container.querySelector("b")).toBeNull();
    expect(container.querySelector("a")?.getAttribute("href")).toBe("https://runbooks.example/dm");
  });

  it("says so when an embedded chart snapshot is not part of the postmortem", () => {
    const { container } = render(
      <PostmortemDocument
        markdown={"Before\n\n```faultline-chart\nsnap_missing\n```\n\nAfter"}
        snapshots={[]}
      />,
    );
    expect(container.textContent).toContain("Chart snapshot snap_missing is not part of this postmortem.");
    expect(container.textContent).toContain("Before");
    expect(container.textContent).toContain("After");
  });
});
