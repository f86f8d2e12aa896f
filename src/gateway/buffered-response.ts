import type { ResponseSink } from './forwarder.js';

/**
 * A response sink that keeps the response in memory, for invocations nobody streams to (queue
 * workers, trigger deliveries, tests): status, headers and up to `maxBodyBytes` of the body; the
 * rest is counted but dropped, and `truncated` says so.
 */
export class BufferedResponse implements ResponseSink {
  status = 0;
  headers: Record<string, string | string[]> = {};
  truncated = false;
  writableFinished = false;
  private readonly chunks: Buffer[] = [];
  private kept = 0;

  /** @param maxBodyBytes body bytes kept. @default 1 MiB */
  constructor(private readonly maxBodyBytes = 1024 * 1024) {}

  writeHead(statusCode: number, headers: Record<string, string | string[]>): this {
    this.status = statusCode;
    this.headers = headers;
    return this;
  }

  write(chunk: Buffer): boolean {
    const room = this.maxBodyBytes - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room > 0) {
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.kept += part.length;
    }
    return true; // memory is bounded by maxBodyBytes: never a reason to pause the instance
  }

  once(_event: 'drain', _listener: () => void): this {
    return this; // write never asks for a pause, so 'drain' is never awaited
  }

  end(): this {
    this.writableFinished = true;
    return this;
  }

  /** The body kept so far. */
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
