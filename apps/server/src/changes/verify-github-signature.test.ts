import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyGithubSignature } from "./verify-github-signature.ts";

// GitHub's published test vector (docs: "Validating webhook deliveries").
const secret = "It's a Secret to Everybody";
const payload = Buffer.from("Hello, World!", "utf8");
const signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

describe("verifyGithubSignature", () => {
  it("accepts GitHub's published test vector", () => {
    expect(verifyGithubSignature(secret, payload, signature)).toBe(true);
  });

  it("accepts upper-case hex (same bytes), and nothing else", () => {
    expect(verifyGithubSignature(secret, payload, `sha256=${signature.slice(7).toUpperCase()}`)).toBe(true);
    const sha1 = `sha1=${createHmac("sha1", secret).update(payload).digest("hex")}`;
    for (const bad of [
      undefined,
      "",
      sha1,
      signature.slice(0, -2),
      `${signature}00`,
      ` ${signature}`,
      `sha256= ${signature.slice(7)}`,
      `SHA256=${signature.slice(7)}`,
      `sha256=${"z".repeat(64)}`,
      `sha256=${"0".repeat(64)}`,
      `sha256=${"a".repeat(100_000)}`,
    ]) {
      expect(verifyGithubSignature(secret, payload, bad)).toBe(false);
    }
  });

  it("fails for a tampered body, another secret, or re-serialized JSON", () => {
    expect(verifyGithubSignature(secret, Buffer.from("Hello, World?"), signature)).toBe(false);
    expect(verifyGithubSignature("another secret", payload, signature)).toBe(false);
    const raw = Buffer.from('{ "zen":  "Keep it logically awesome." }');
    const signed = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
    expect(verifyGithubSignature(secret, raw, signed)).toBe(true);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString())));
    expect(verifyGithubSignature(secret, reserialized, signed)).toBe(false);
  });
});
