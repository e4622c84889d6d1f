import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseSegment, type WalRecord, WriteAheadLog } from "./write-ahead-log.ts";

// The log's framing: what was appended reads back; reading stops at the first torn or corrupt frame
// (it was never synced, so never acknowledged), whether the frame's CRC covers its payload or its key
// (the payload's SHA-256) does.

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

function request(text: string, receivedAtMs: number): WalRecord {
  const payload = new TextEncoder().encode(text);
  return { key: sha256(payload), receivedAtMs, encoding: "json", payload, keyIsPayloadSha256: true };
}

function browserSpans(text: string): WalRecord {
  return { key: "faro:1", receivedAtMs: 5, encoding: "spans", payload: new TextEncoder().encode(text) };
}

describe("WriteAheadLog", () => {
  let directory = "";
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "faultline-wal-unit-"));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  /** Appends records to a fresh log, closes it and returns the one segment's bytes and path. */
  async function written(records: WalRecord[]): Promise<{ bytes: Buffer; path: string }> {
    const log = await WriteAheadLog.open(directory);
    await log.append(records);
    await log.close();
    const [name] = await readdir(directory);
    const path = join(directory, name ?? "");
    return { bytes: await readFile(path), path };
  }

  it("reads back every record appended, with its key, time, encoding and payload", async () => {
    const records = [request('{"resourceSpans":[]}', 1_000), browserSpans("[]"), request("{}", 2_000)];
    const { path } = await written(records);
    const log = await WriteAheadLog.open(directory);
    const [sequence] = await log.segmentsOnDisk();
    const read = await log.readSegment(sequence ?? 0);
    await log.close();
    expect(path).toContain("segment-");
    // Payloads come back as views of the segment's bytes.
    const comparable = (list: WalRecord[]) =>
      list.map((record) => ({ ...record, payload: Buffer.from(record.payload) }));
    expect(comparable(read)).toEqual(comparable(records));
  });

  it("stops at a torn last frame and keeps the frames before it", async () => {
    const { bytes } = await written([request("first", 1), request("second, torn by the crash", 2)]);
    for (let cut = 1; cut < 40; cut += 1) {
      expect(
        parseSegment(bytes.subarray(0, bytes.length - cut)).map((record) => record.receivedAtMs),
      ).toEqual([1]);
    }
  });

  it("stops at a payload changed under a frame checked by its key, and under one checked by its CRC", async () => {
    for (const second of [request("payload checked by key", 2), browserSpans("payload checked by CRC")]) {
      const { bytes, path } = await written([request("first", 1), second, request("third", 3)]);
      expect(parseSegment(bytes)).toHaveLength(3);
      const at = bytes.indexOf(Buffer.from("payload checked"));
      const corrupt = Buffer.from(bytes);
      corrupt[at] = (corrupt[at] ?? 0) ^ 0x01;
      expect(parseSegment(corrupt).map((record) => record.receivedAtMs)).toEqual([1]);
      await rm(path);
    }
  });

  it("stops at a changed key or receive time, which the CRC covers in every frame", async () => {
    const { bytes } = await written([request("first", 1), request("second", 2)]);
    const secondKey = bytes.lastIndexOf(Buffer.from(sha256(new TextEncoder().encode("second"))));
    const keyChanged = Buffer.from(bytes);
    keyChanged[secondKey] = (keyChanged[secondKey] ?? 0) ^ 0x01;
    expect(parseSegment(keyChanged)).toHaveLength(1);
    // The receive time sits 10 bytes before the key (f64, then the u16 key length).
    const timeChanged = Buffer.from(bytes);
    timeChanged[secondKey - 10] = (timeChanged[secondKey - 10] ?? 0) ^ 0x01;
    expect(parseSegment(timeChanged)).toHaveLength(1);
  });

  it("reads nothing from a file that is not a segment", async () => {
    const path = join(directory, "not-a-segment");
    await writeFile(path, "hello");
    expect(parseSegment(await readFile(path))).toEqual([]);
  });
});
