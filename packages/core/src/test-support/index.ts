// Test helpers other packages' tests share (`@faultline/core/testing`); never imported by product code.
export { makeResource, makeSpan, type SpanOverrides } from "./make-span.ts";
