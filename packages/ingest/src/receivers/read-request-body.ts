import type { IncomingMessage } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import { createGunzip, createInflate, createInflateRaw } from "node:zlib";

/** Content codings the receivers can undo (RFC 9110 §8.4.1); identity is the empty list. */
export type ContentCoding = "gzip" | "deflate";

/** How reading a request body ended. */
export type BodyReadResult =
  | { kind: "ok"; body: Buffer }
  /** Raw or decompressed bytes passed the cap; reading stopped there. */
  | { kind: "too-large" }
  /** A decompressor failed (corrupt or truncated stream, or plain bytes labelled gzip). */
  | { kind: "corrupt" }
  /** The client went away before the body ended. */
  | { kind: "aborted" }
  /** The body did not arrive within the time allowed. */
  | { kind: "timeout" };

export interface ReadRequestBodyOptions {
  /** Cap in bytes, applied to the raw body and to every decompression stage's output. */
  maxBytes: number;
  /** Codings in the order they were applied (the `Content-Encoding` order); undone in reverse. */
  codings: readonly ContentCoding[];
  /** Time allowed for the whole body, so a client trickling one byte a second cannot pin memory. */
  timeoutMs: number;
}

type Decoder = Transform;

/**
 * Reads, decompresses and bounds a request body while it streams in. Memory stays within about
 * `maxBytes` per stage: each stage's output is counted as it is produced and decompression stops at
 * the first byte over the cap, so a gzip bomb never inflates further than the cap.
 *
 * The request stream itself is never destroyed here (that would kill the socket before the caller
 * can answer 413/400); on failure it is detached and the caller decides how to drain or close it.
 */
export function readRequestBody(
  req: IncomingMessage,
  options: ReadRequestBodyOptions,
): Promise<BodyReadResult> {
  const { maxBytes, codings, timeoutMs } = options;
  return new Promise<BodyReadResult>((resolve) => {
    const chunks: Buffer[] = [];
    let collected = 0;
    let rawBytes = 0;
    let settled = false;
    // Undo codings in reverse order of application: the last coding applied is the outermost.
    const chunkSize = outputChunkSizeFor(req.headers["content-length"]);
    const decoders: Decoder[] = [...codings].reverse().map((coding) => createDecoder(coding, chunkSize));
    const first = decoders[0];

    const finish = (result: BodyReadResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off("data", onRawData);
      req.off("end", onRawEnd);
      req.off("error", onAbort);
      req.off("close", onClose);
      for (const decoder of decoders) {
        decoder.removeAllListeners("data");
        // Errors after the outcome is known are expected (we destroy mid-stream); swallow them.
        decoder.on("error", () => {});
        decoder.destroy();
      }
      if (req.isPaused()) req.resume();
      resolve(result);
    };

    const timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    timer.unref();

    const collect = (chunk: Buffer): void => {
      collected += chunk.length;
      if (collected > maxBytes) {
        finish({ kind: "too-large" });
        return;
      }
      chunks.push(chunk);
    };

    const onRawData = (chunk: Buffer): void => {
      rawBytes += chunk.length;
      if (rawBytes > maxBytes) {
        finish({ kind: "too-large" });
        return;
      }
      if (first === undefined) {
        collect(chunk);
        return;
      }
      // Backpressure: stop pulling from the socket while the decompressor is behind.
      if (!first.write(chunk)) {
        req.pause();
        first.once("drain", () => {
          if (!settled) req.resume();
        });
      }
    };
    const onRawEnd = (): void => {
      if (first === undefined) finish({ kind: "ok", body: Buffer.concat(chunks, collected) });
      else first.end();
    };
    const onAbort = (): void => finish({ kind: "aborted" });
    const onClose = (): void => {
      if (!req.complete) finish({ kind: "aborted" });
    };

    decoders.forEach((decoder, index) => {
      let produced = 0;
      decoder.on("error", () => finish({ kind: "corrupt" }));
      const next = decoders[index + 1];
      decoder.on("data", (chunk: Buffer) => {
        // Counted per stage so a stacked coding cannot hide an oversized intermediate stream.
        produced += chunk.length;
        if (produced > maxBytes) {
          finish({ kind: "too-large" });
          return;
        }
        if (next === undefined) collect(chunk);
        else if (!next.write(chunk)) {
          decoder.pause();
          next.once("drain", () => decoder.resume());
        }
      });
      decoder.on("end", () => {
        if (next === undefined) finish({ kind: "ok", body: Buffer.concat(chunks, collected) });
        else next.end();
      });
    });
    req.on("data", onRawData);
    req.on("end", onRawEnd);
    req.on("error", onAbort);
    req.on("close", onClose);
  });
}

/** zlib's default output chunk, and the largest one a decompressor gets. */
const minOutputChunkBytes = 16 * 1024;
const maxOutputChunkBytes = 256 * 1024;

/**
 * The output chunk size for a compressed body of the given Content-Length: about what it inflates to
 * (8×), within 16–256 KiB. Each chunk is one trip through libuv's thread pool and one 'data' event, so
 * zlib's default 16 KiB made a 50 KB gzip export of 512 spans some twenty sequential trips; a 256 KiB
 * chunk costs that memory for each body in flight, so small bodies keep small chunks.
 */
function outputChunkSizeFor(contentLength: string | undefined): number {
  const length = Number(contentLength);
  if (!Number.isFinite(length) || length <= 0) return minOutputChunkBytes;
  return Math.min(maxOutputChunkBytes, Math.max(minOutputChunkBytes, 2 ** Math.ceil(Math.log2(length * 8))));
}

function createDecoder(coding: ContentCoding, chunkSize: number): Decoder {
  return coding === "gzip" ? createGunzip({ chunkSize }) : new DeflateDecoder(chunkSize);
}

/**
 * HTTP "deflate" is the zlib format (RFC 9110 §8.4.1.2), but some clients send raw DEFLATE. The first
 * two bytes tell them apart (a zlib header is CM=8 and a multiple of 31), so sniff them, then hand the
 * stream to the matching inflater.
 */
class DeflateDecoder extends Transform {
  private inner: Transform | null = null;
  private head: Buffer = Buffer.alloc(0);

  constructor(private readonly chunkSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.inner !== null) {
      this.inner.write(chunk, () => callback());
      return;
    }
    this.head = Buffer.concat([this.head, chunk]);
    if (this.head.length < 2) {
      callback();
      return;
    }
    const buffered = this.head;
    this.head = Buffer.alloc(0);
    this.startInner(buffered).write(buffered, () => callback());
  }

  override _flush(callback: TransformCallback): void {
    const inner = this.inner;
    if (inner === null) {
      // Zero bytes is an empty body; a single byte cannot be any deflate stream.
      callback(this.head.length === 0 ? null : new Error("truncated deflate stream"));
      return;
    }
    inner.once("end", () => callback());
    inner.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner?.destroy();
    callback(error);
  }

  private startInner(head: Buffer): Transform {
    const cmf = head[0] ?? 0;
    const flg = head[1] ?? 0;
    const isZlib = (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
    const options = { chunkSize: this.chunkSize };
    const inner = isZlib ? createInflate(options) : createInflateRaw(options);
    inner.on("data", (out: Buffer) => this.push(out));
    inner.on("error", (err: Error) => this.destroy(err));
    this.inner = inner;
    return inner;
  }
}
