/**
 * The OTLP/JSON decoder's paths against each other and against the protobuf decoder:
 * - a random request rendered as OTLP/JSON and as protobuf decodes to identical normalized spans through
 *   the scanner, the JSON.parse path and the protobuf decoder;
 * - a mutated request (broken syntax, wrong types, repeated fields) decodes through the public decoder
 *   exactly as through the JSON.parse path alone: same spans or the same error.
 */
import { describe, expect, it } from "vitest";
import {
  createRandom,
  RandomRequestBuilder,
  renderJson,
  renderProto,
  tightDecodeLimits,
} from "../test-support/random-trace-request.ts";
import { decodeParsedTraceRequestJson } from "./decode-parsed-trace-request-json.ts";
import { decodeTraceRequestJson } from "./decode-trace-request-json.ts";
import { decodeTraceRequestProto } from "./decode-trace-request-proto.ts";
import { type DecodeLimits, type DecodeResult, defaultDecodeLimits } from "./normalized-span.ts";
import { scanTraceRequestJson } from "./scan-trace-request-json.ts";

const encoder = new TextEncoder();
const limitsFor = (seed: number): DecodeLimits => (seed % 3 === 0 ? tightDecodeLimits : defaultDecodeLimits);

/** Spans or the error message: what a receiver would answer. */
function outcome(decode: () => DecodeResult): DecodeResult | string {
  try {
    return decode();
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

const requestCount = 600;
const chunkSize = 100;
const chunks = Array.from({ length: requestCount / chunkSize }, (_, index) => index * chunkSize + 1);

describe("OTLP/JSON and protobuf renderings of one request decode to the same spans", () => {
  it.each(chunks)(`on seeded random requests ${"%i"}..+${chunkSize - 1}`, (firstSeed) => {
    let spansCompared = 0;
    for (let seed = firstSeed; seed < firstSeed + chunkSize; seed += 1) {
      const builder = new RandomRequestBuilder(createRandom(seed));
      const limits = limitsFor(seed);
      const model = builder.request();
      const fromProto = decodeTraceRequestProto(renderProto(model, builder), limits);
      const json = renderJson(model, builder);

      const scanned = scanTraceRequestJson(encoder.encode(json), limits);
      expect(scanned, `scanner declined seed ${seed}`).not.toBeNull();
      expect(scanned, `scanner, seed ${seed}`).toEqual(fromProto);
      expect(decodeParsedTraceRequestJson(json, limits), `JSON.parse path, seed ${seed}`).toEqual(fromProto);

      // The same request with whitespace everywhere JSON allows it (Go's protojson adds some).
      const spaced = JSON.stringify(JSON.parse(json), null, seed % 2 === 0 ? 1 : "\t").replace(
        /":/g,
        seed % 4 < 2 ? '" :\r\n' : '":',
      );
      const scannedSpaced = scanTraceRequestJson(encoder.encode(spaced), limits);
      expect(scannedSpaced, `scanner declined spaced seed ${seed}`).not.toBeNull();
      expect(scannedSpaced, `scanner, spaced seed ${seed}`).toEqual(fromProto);
      spansCompared += fromProto.spans.length;
    }
    expect(spansCompared).toBeGreaterThan(chunkSize * 3);
  });
});

// ---- mutations --------------------------------------------------------------------------------

const syntaxBytes = encoder.encode('{}[],:"\\ \t\n0123456789-+.eEtrufalsn\u0000');

/** Changes a few bytes: deletions, insertions, replacements, a copied slice, a cut. */
function mutateBytes(bytes: Uint8Array, builder: RandomRequestBuilder): Uint8Array {
  let out = Array.from(bytes);
  const edits = 1 + builder.int(3);
  for (let edit = 0; edit < edits && out.length > 0; edit += 1) {
    const at = builder.int(out.length);
    const byte = builder.chance(0.8) ? (syntaxBytes[builder.int(syntaxBytes.length)] ?? 0) : builder.int(256);
    switch (builder.int(5)) {
      case 0:
        out.splice(at, 1);
        break;
      case 1:
        out.splice(at, 0, byte);
        break;
      case 2:
        out[at] = byte;
        break;
      case 3: {
        const length = 1 + builder.int(40);
        out.splice(builder.int(out.length), 0, ...out.slice(at, at + length));
        break;
      }
      default:
        out = out.slice(0, at);
    }
  }
  return Uint8Array.from(out);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const replacementValues: Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 31,
  "",
  "x",
  "0",
  "-0",
  "NaN",
  "00000000000000000000000000000000",
  "ABCDEF0123456789",
  "SPAN_KIND_CLIENT",
  "STATUS_CODE_OK",
  "18446744073709551616",
  [],
  [null],
  {},
  { stringValue: "v" },
  { intValue: "12" },
];

const readMembers = new Set([
  "resourceSpans",
  "resource",
  "scopeSpans",
  "spans",
  "traceId",
  "spanId",
  "parentSpanId",
  "name",
  "kind",
  "startTimeUnixNano",
  "endTimeUnixNano",
  "attributes",
  "events",
  "links",
  "status",
  "code",
  "message",
  "key",
  "value",
  "stringValue",
  "intValue",
  "boolValue",
  "doubleValue",
  "arrayValue",
  "bytesValue",
]);

/** Replaces one value anywhere in the parsed request, or repeats one member (JSON.parse keeps the last). */
function mutateValue(json: string, builder: RandomRequestBuilder): string {
  const root = JSON.parse(json) as Json;
  const slots: Array<{ parent: Json[] | { [key: string]: Json }; key: string | number }> = [];
  const collect = (value: Json): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        slots.push({ parent: value, key: index });
        collect(item);
      });
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        slots.push({ parent: value, key });
        collect(item);
      }
    }
  };
  collect(root);
  // Half the time, a member the decoders read (where a wrong type must be refused).
  const read = slots.filter(
    (candidate) => typeof candidate.key === "string" && readMembers.has(candidate.key),
  );
  const pool = read.length > 0 && builder.chance(0.5) ? read : slots;
  const slot = pool[builder.int(pool.length)];
  if (slot === undefined) return json;
  const replacement = replacementValues[builder.int(replacementValues.length)] ?? null;
  if (!Array.isArray(slot.parent) && typeof slot.key === "string" && builder.chance(0.3)) {
    // A repeated member: render the object with the member twice, the copy first or last.
    const marker = "\u0001repeat\u0001";
    const parent = slot.parent;
    const original = parent[slot.key] ?? null;
    parent[slot.key] = marker;
    const text = JSON.stringify(root);
    const member = `${JSON.stringify(slot.key)}:${JSON.stringify(replacement)}`;
    const originalMember = `${JSON.stringify(slot.key)}:${JSON.stringify(original)}`;
    const both = builder.chance(0.5) ? `${member},${originalMember}` : `${originalMember},${member}`;
    return text.replace(`${JSON.stringify(slot.key)}:${JSON.stringify(marker)}`, both);
  }
  if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = replacement;
  else slot.parent[slot.key as string] = replacement;
  return JSON.stringify(root);
}

describe("a mutated OTLP/JSON request decodes as through JSON.parse alone", () => {
  it.each(chunks)(`on mutations of seeded random requests ${"%i"}..+${chunkSize - 1}`, (firstSeed) => {
    let scannerTook = 0;
    let errors = 0;
    for (let seed = firstSeed; seed < firstSeed + chunkSize; seed += 1) {
      const builder = new RandomRequestBuilder(createRandom(seed + 1_000_000));
      const limits = limitsFor(seed);
      const json = renderJson(builder.request(), builder);
      for (let variant = 0; variant < 4; variant += 1) {
        const bytes =
          variant % 2 === 0
            ? mutateBytes(encoder.encode(json), builder)
            : encoder.encode(mutateValue(json, builder));
        const expected = outcome(() => decodeParsedTraceRequestJson(bytes, limits));
        expect(
          outcome(() => decodeTraceRequestJson(bytes, limits)),
          `seed ${seed} variant ${variant}`,
        ).toEqual(expected);
        const scanned = scanTraceRequestJson(bytes, limits);
        if (scanned !== null) {
          scannerTook += 1;
          expect(scanned, `scanner, seed ${seed} variant ${variant}`).toEqual(expected);
        }
        if (typeof expected === "string") errors += 1;
      }
    }
    // Both paths and both outcomes must actually be exercised.
    expect(scannerTook).toBeGreaterThan(chunkSize / 2);
    expect(errors).toBeGreaterThan(chunkSize / 2);
  });
});
