import { connect, type Socket } from 'node:net';

/**
 * One client connection driven by hand: the test writes bytes when it chooses and waits for what
 * the server sent, so it can hold a request half-sent (or a response half-read) across an event
 * such as the platform starting to close, without sleeping.
 */
export class RawConnection {
  private received = '';
  private readonly waiters = new Set<() => void>();
  private ended = false;
  private readonly socket: Socket;
  /** Resolves with everything received once the server closed the connection (or it failed). */
  readonly closed: Promise<string>;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.wake();
    });
    this.socket.on('error', () => undefined); // a cut connection shows as an incomplete answer
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve(this.received);
      }),
    );
  }

  /** Resolves once the socket is connected (so the server counts the connection). */
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connecting) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  text(): string {
    return this.received;
  }

  /** Resolves once what was received matches `pattern`; rejects when the connection closes first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(this.received)) done(resolve);
        else if (this.ended) done(() => reject(new Error(`connection closed before ${pattern}; received:\n${this.received}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; received:\n${this.received}`))), timeoutMs);
      const done = (then: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      this.waiters.add(check);
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}

/**
 * A function that answers `started;` at once, then holds its response open until the client has
 * sent its whole (chunked) request body, then ends it with `finished after <n> bytes` (and ` by
 * <tag>`). The test decides when the invocation ends by ending the body: no timing involved. A
 * request without a body gets `quick` (or the tag) at once.
 */
export function holdUntilBodyEnds(tag = ''): { file: string; content: string } {
  return {
    file: 'index.js',
    content: `const TAG = ${JSON.stringify(tag)};
export default {
  async fetch(request) {
    if (!request.body) return new Response(TAG || 'quick');
    const reader = request.body.getReader();
    const encoder = new TextEncoder();
    return new Response(new ReadableStream({
      async start(controller) {
        controller.enqueue(encoder.encode('started;'));
        let bytes = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.length;
        }
        controller.enqueue(encoder.encode('finished after ' + bytes + ' bytes' + (TAG ? ' by ' + TAG : '')));
        controller.close();
      },
    }));
  },
};`,
  };
}

export const HOLD_UNTIL_BODY_ENDS = holdUntilBodyEnds();

/** The start of a chunked POST to `/fn/<name>` with a first body chunk, the rest left to send. */
export function heldInvocation(name: string): string {
  return `POST /fn/${name} HTTP/1.1\r\nHost: nimbus.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`;
}

/** The last chunk of a chunked body. */
export const END_OF_BODY = '0\r\n\r\n';
