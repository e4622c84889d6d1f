import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/** How a record's payload is encoded, so recovery decodes it the way the request was decoded. */
export type WalPayloadEncoding = "proto" | "json" | "spans";

/** One accepted request, as the write-ahead log keeps it until a checkpoint has it in the database. */
export interface WalRecord {
  /** The request's idempotency key (its receipt key). */
  key: string;
  /** The clock when the request was accepted: recovery aggregates with the same "now". */
  receivedAtMs: number;
  encoding: WalPayloadEncoding;
  /** The decompressed request body (proto/json), or the spans as serialized by the pipeline. */
  payload: Uint8Array;
  /**
   * The key is the SHA-256 (lower-case hex) of the payload, as for every OTLP request: the frame's
   * CRC-32 then covers its head only, and reading checks the payload against the key instead. The
   * hash was computed anyway, and a CRC over every body cost a few percent of the server thread.
   */
  keyIsPayloadSha256?: boolean;
}

const segmentMagic = Buffer.from("FLWAL01\n", "latin1");
const frameHeaderBytes = 8;
const encodingCodes: Record<WalPayloadEncoding, number> = { proto: 1, json: 2, spans: 3 };
/** Set in the encoding byte of a frame whose payload is checked by its key (see keyIsPayloadSha256). */
const payloadCheckedByKey = 0x80;
const encodingOfCode = new Map(
  Object.entries(encodingCodes).map(([name, code]) => [code, name as WalPayloadEncoding]),
);
const segmentPattern = /^segment-(\d{16})\.wal$/;
const segmentName = (sequence: number): string => `segment-${String(sequence).padStart(16, "0")}.wal`;

/**
 * An append-only log of accepted requests in numbered segment files. `append` writes a group of records
 * with one `writev` and makes them durable with one `fdatasync`: every request waiting in the group
 * shares that sync, so a 2xx can wait for it without one disk flush per request.
 *
 * Records are framed as `[u32 body length][u32 CRC-32][body]`, the body being `[u8 encoding][f64 receive
 * time][u16 key length][key][payload]`. The CRC covers the whole body, or only what precedes the payload
 * when the key is the payload's SHA-256 (flagged in the encoding byte; reading then hashes the payload).
 * A crash can leave a torn frame at the end of the last segment, which reading stops at (it was never
 * synced, so never acknowledged).
 * A checkpoint `seal`s the current segment (later appends go to a new one) and, once the database
 * holds everything up to the sealed segment, `deleteThrough` removes those files.
 *
 * Calls must not overlap (the pipeline runs them on one chain): `append` after `seal` goes to the new
 * segment.
 */
export class WriteAheadLog {
  readonly directory: string;
  private sequence: number;
  private file: Awaited<ReturnType<typeof open>>;
  private bytesInSegment: number;

  private constructor(directory: string, sequence: number, file: Awaited<ReturnType<typeof open>>) {
    this.directory = directory;
    this.sequence = sequence;
    this.file = file;
    this.bytesInSegment = segmentMagic.length;
  }

  /**
   * Opens the log in `directory` (created if missing). Existing segments are left for the caller to
   * replay (`segmentsOnDisk`, `readSegment`); new records go to a fresh segment after them.
   */
  static async open(directory: string): Promise<WriteAheadLog> {
    await mkdir(directory, { recursive: true });
    const existing = await listSegments(directory);
    const next = (existing.at(-1) ?? 0) + 1;
    const file = await createSegment(directory, next);
    return new WriteAheadLog(directory, next, file);
  }

  /** Sequence number of the segment appends go to. */
  get currentSegment(): number {
    return this.sequence;
  }

  /** Bytes in the current segment (for rotation and metrics). */
  get currentSegmentBytes(): number {
    return this.bytesInSegment;
  }

  /** Segment numbers on disk, oldest first (the current one included). */
  segmentsOnDisk(): Promise<number[]> {
    return listSegments(this.directory);
  }

  /** The complete records of one segment, in order; a torn tail is ignored. */
  async readSegment(sequence: number): Promise<WalRecord[]> {
    return parseSegment(await readFile(join(this.directory, segmentName(sequence))));
  }

  /** Writes `records` and returns once they are on stable storage (one writev, one fdatasync). */
  async append(records: readonly WalRecord[]): Promise<void> {
    if (records.length === 0) return;
    const buffers: Uint8Array[] = [];
    let bytes = 0;
    for (const record of records) {
      const key = Buffer.from(record.key, "utf8");
      if (key.length > 0xffff) throw new RangeError("write-ahead log key too long");
      const head = Buffer.allocUnsafe(frameHeaderBytes + 11 + key.length);
      const bodyLength = 11 + key.length + record.payload.length;
      const checkedByKey = record.keyIsPayloadSha256 === true;
      head.writeUInt8(
        encodingCodes[record.encoding] | (checkedByKey ? payloadCheckedByKey : 0),
        frameHeaderBytes,
      );
      head.writeDoubleLE(record.receivedAtMs, frameHeaderBytes + 1);
      head.writeUInt16LE(key.length, frameHeaderBytes + 9);
      key.copy(head, frameHeaderBytes + 11);
      const headCrc = crc32(head.subarray(frameHeaderBytes));
      const crc = checkedByKey ? headCrc : crc32(record.payload, headCrc);
      head.writeUInt32LE(bodyLength, 0);
      head.writeUInt32LE(crc, 4);
      buffers.push(head, record.payload);
      bytes += head.length + record.payload.length;
    }
    await this.file.writev(buffers);
    await this.file.datasync();
    this.bytesInSegment += bytes;
  }

  /** Closes the current segment and starts the next; returns the number of the one closed. */
  async seal(): Promise<number> {
    const sealed = this.sequence;
    const next = await createSegment(this.directory, sealed + 1);
    await this.file.close();
    this.file = next;
    this.sequence = sealed + 1;
    this.bytesInSegment = segmentMagic.length;
    return sealed;
  }

  /** Deletes every segment numbered `sequence` or lower (never the current one). */
  async deleteThrough(sequence: number): Promise<void> {
    for (const existing of await listSegments(this.directory)) {
      if (existing > sequence || existing >= this.sequence) break;
      await rm(join(this.directory, segmentName(existing)), { force: true });
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

async function listSegments(directory: string): Promise<number[]> {
  const names = await readdir(directory);
  return names
    .map((name) => segmentPattern.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

async function createSegment(directory: string, sequence: number): Promise<Awaited<ReturnType<typeof open>>> {
  // "wx": a segment is never reused; its header is synced, and so is the directory entry, before any
  // record in it can be acknowledged.
  const file = await open(join(directory, segmentName(sequence)), "wx");
  await file.write(segmentMagic);
  await file.datasync();
  const dir = await open(directory, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return file;
}

/** Records of a segment file's bytes, stopping at the first incomplete or corrupt frame. */
export function parseSegment(bytes: Uint8Array): WalRecord[] {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < segmentMagic.length || !data.subarray(0, segmentMagic.length).equals(segmentMagic)) {
    return [];
  }
  const records: WalRecord[] = [];
  let at = segmentMagic.length;
  while (at + frameHeaderBytes <= data.length) {
    const bodyLength = data.readUInt32LE(at);
    const crc = data.readUInt32LE(at + 4);
    const bodyStart = at + frameHeaderBytes;
    const bodyEnd = bodyStart + bodyLength;
    if (bodyLength < 11 || bodyEnd > data.length) break;
    const body = data.subarray(bodyStart, bodyEnd);
    const code = body.readUInt8(0);
    const checkedByKey = (code & payloadCheckedByKey) !== 0;
    const keyLength = body.readUInt16LE(9);
    if (11 + keyLength > body.length) break;
    if (crc32(checkedByKey ? body.subarray(0, 11 + keyLength) : body) !== crc) break;
    const encoding = encodingOfCode.get(code & ~payloadCheckedByKey);
    if (encoding === undefined) break;
    const key = body.toString("utf8", 11, 11 + keyLength);
    const payload = body.subarray(11 + keyLength);
    if (checkedByKey && createHash("sha256").update(payload).digest("hex") !== key) break;
    records.push({
      key,
      receivedAtMs: body.readDoubleLE(1),
      encoding,
      payload,
      ...(checkedByKey ? { keyIsPayloadSha256: true } : {}),
    });
    at = bodyEnd;
  }
  return records;
}
