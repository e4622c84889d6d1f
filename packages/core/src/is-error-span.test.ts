import { describe, expect, it } from "vitest";
import { isErrorSpan } from "./is-error-span.ts";
import { makeSpan } from "./test-support/make-span.ts";

describe("isErrorSpan", () => {
  it("counts an error status on any kind", () => {
    expect(isErrorSpan(makeSpan({ statusCode: "error", kind: "client" }))).toBe(true);
    expect(isErrorSpan(makeSpan({ statusCode: "error", kind: "consumer" }))).toBe(true);
  });

  it("counts an unset SERVER span answering 5xx or a server-owned gRPC code", () => {
    expect(isErrorSpan(makeSpan({ attributes: { httpStatusCode: 503 } }))).toBe(true);
    expect(isErrorSpan(makeSpan({ attributes: { httpStatusCode: 404 } }))).toBe(false);
    expect(isErrorSpan(makeSpan({ attributes: { rpcGrpcStatusCode: 14 } }))).toBe(true);
    expect(isErrorSpan(makeSpan({ attributes: { rpcGrpcStatusCode: 5 } }))).toBe(false);
  });

  it("trusts an explicit ok status and ignores status codes on non-server spans", () => {
    expect(isErrorSpan(makeSpan({ statusCode: "ok", attributes: { httpStatusCode: 500 } }))).toBe(false);
    expect(isErrorSpan(makeSpan({ kind: "client", attributes: { httpStatusCode: 500 } }))).toBe(false);
    expect(isErrorSpan(makeSpan())).toBe(false);
  });
});
