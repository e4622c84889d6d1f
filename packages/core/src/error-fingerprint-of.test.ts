import { describe, expect, it } from "vitest";
import { errorFingerprintOf, normalizeErrorMessage } from "./error-fingerprint-of.ts";

describe("normalizeErrorMessage", () => {
  it.each([
    ["user 12345 not found", "user <n> not found"],
    ["timeout after 3000.5 ms (attempt 2)", "timeout after <n> ms (attempt <n>)"],
    ["conversation 3f2b8c1e-9a4d-4c1b-8e2f-0a1b2c3d4e5f is locked", "conversation <uuid> is locked"],
    ["bad pointer 0x7ffe3a2b at frame", "bad pointer <hex> at frame"],
    ["trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7", "trace <hex> span <hex>"],
    ["Cannot read property 'id' of undefined", "Cannot read property <str> of undefined"],
    ['key "dm:inbox:42" missing', "key <str> missing"],
    ["  many   spaces\n here ", "many spaces here"],
    ["accepted deadline", "accepted deadline"],
    ["", ""],
  ])("normalizes %j", (raw, normalized) => {
    expect(normalizeErrorMessage(raw)).toBe(normalized);
  });
});

describe("errorFingerprintOf", () => {
  it("groups messages that differ only in ids and numbers, and splits by type", () => {
    const a = errorFingerprintOf("java.lang.NullPointerException", "user 12 at 0x1f: 'x'");
    const b = errorFingerprintOf("java.lang.NullPointerException", "user 99 at 0xff: 'yy'");
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(errorFingerprintOf("TimeoutError", "user 12 at 0x1f: 'x'")).not.toBe(a);
    expect(errorFingerprintOf(null, null)).toBe(errorFingerprintOf(null, null));
    expect(errorFingerprintOf(null, null)).not.toBe(errorFingerprintOf("Error", null));
  });
});
