/**
 * A Request that builds Node's real one only when something needs it. Handlers mostly read
 * `method`, `url` and a header or two; the real Request costs an AbortController, a Headers list
 * and URL parsing on every invocation (~15% of the shim's CPU per request), so `method`, `url`,
 * `headers` and `signal` are answered here and every other member delegates to a real Request
 * made on first use. `instanceof Request` holds; `new Request(light)` and `fetch(light)` work
 * because the global Request and fetch are wrapped to hand the real one on (installed before user
 * code loads).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { delegateMembers } from './delegate.cjs';

const NativeRequest: typeof Request = globalThis.Request;
const nativeFetch: typeof fetch = globalThis.fetch;

const REAL = Symbol('nimbus.realRequest');

class LightRequest {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #url: string | undefined;
  #headers: Headers | undefined;
  #signal: AbortSignal | undefined;
  [REAL]: Request | undefined;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.#req = req;
    this.#res = res;
  }

  get method(): string {
    return this.#req.method ?? 'GET';
  }

  get url(): string {
    if (this.#url === undefined) {
      const { host } = this.#req.headers;
      try {
        this.#url = new URL(`http://${host ?? 'localhost'}${this.#req.url ?? '/'}`).href;
      } catch {
        this.#url = `http://localhost${this.#req.url ?? '/'}`;
      }
    }
    return this.#url;
  }

  get headers(): Headers {
    if (this.#headers === undefined) {
      const headers = new Headers();
      const raw = this.#req.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** Aborts when the platform closes the connection (the client went away or the deadline passed). */
  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      const controller = new AbortController();
      this.#signal = controller.signal;
      const res = this.#res;
      if (res.destroyed && !res.writableFinished) controller.abort();
      else res.once('close', () => res.writableFinished || controller.abort());
    }
    return this.#signal;
  }

  /** The real Request, made on first need (with the headers as the handler may have changed them). */
  real(): Request {
    if (this[REAL] === undefined) {
      const method = this.method;
      const req = this.#req;
      // GET/HEAD cannot have a body; other requests without one get a null body, as in browsers.
      const hasBody =
        method !== 'GET' && method !== 'HEAD' && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0);
      const init: RequestInit & { duplex?: 'half' } = { method, headers: this.headers, signal: this.signal };
      if (hasBody) {
        init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
        init.duplex = 'half';
      }
      this[REAL] = new NativeRequest(this.url, init);
    }
    return this[REAL];
  }
}

// Every other member of Request reads from the real one, so behaviour never differs from Node's.
delegateMembers<LightRequest>(LightRequest.prototype, NativeRequest.prototype, new Set(['method', 'url', 'headers', 'signal']), (self) => self.real());

function isLight(value: unknown): value is LightRequest {
  return typeof value === 'object' && value !== null && Object.prototype.isPrototypeOf.call(LightRequest.prototype, value);
}

/** The global Request: Node's, except that a lightweight request given to it is read as its real one. */
class GlobalRequest extends NativeRequest {
  constructor(input: string | URL | Request, init?: RequestInit) {
    super(isLight(input) ? input.real() : input, init);
  }

  /** Requests made by Node itself (e.g. inside fetch) and lightweight ones are Requests too. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof NativeRequest;
  }
}
Object.defineProperty(GlobalRequest, 'name', { value: 'Request' });

/** Installs the global Request and fetch that understand lightweight requests (before user code loads). */
export function installLightRequest(): void {
  globalThis.Request = GlobalRequest as typeof Request;
  globalThis.fetch = function fetch(input: string | URL | Request, init?: RequestInit) {
    return nativeFetch(isLight(input) ? input.real() : input, init);
  } as typeof fetch;
}

/** The Request a handler gets for this node request. */
export function lightRequest(req: IncomingMessage, res: ServerResponse): Request {
  return new LightRequest(req, res) as unknown as Request;
}
