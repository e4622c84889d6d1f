import { describe, expect, it } from "vitest";
import { apiErrorText } from "./api-error-text.ts";

describe("apiErrorText", () => {
  it("turns validation issues into field: problem lines", () => {
    const issues = [
      { code: "custom", path: ["secretEnv"], message: "secrets come only from FAULTLINE_NOTIFY_*" },
      { code: "invalid_format", path: ["url"], message: "must be an http(s) URL" },
    ];
    expect(apiErrorText(new Error(JSON.stringify(issues, null, 2)))).toBe(
      "secretEnv: secrets come only from FAULTLINE_NOTIFY_*; url: must be an http(s) URL",
    );
  });

  it("keeps a plain message, and text that only looks like JSON", () => {
    expect(apiErrorText(new Error("no destination x"))).toBe("no destination x");
    expect(apiErrorText(new Error("[not json"))).toBe("[not json");
  });
});
