import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_HEADER, type ErrorCode, ERRORS, NimbusError } from '../core/errors.js';
import { sendError } from './respond.js';

/** Node's parser error codes (and its own timeout) mapped to catalogue codes; the rest is BAD_REQUEST. */
const CODES: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  HEADERS_TOO_LARGE: 'The request line and headers are larger than the server accepts (16 KB); send less in the URL and headers.',
  REQUEST_TIMEOUT: 'The request headers did not arrive in time.',
  BAD_REQUEST: 'The request is not well-formed HTTP/1.1.',
};

/**
 * The server's `clientError` handler: a request Node's HTTP parser refuses (malformed, headers over
 * the limit, too slow) gets a catalogue error with a JSON body, like every other platform error,
 * instead of Node's bare status line. As in Node's own handler, nothing is written when a response
 * on this connection has already started, and the connection is closed either way.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const code = CODES[err.code ?? ''] ?? 'BAD_REQUEST';
  socket.end(rawResponse(new NimbusError(code, MESSAGES[code] ?? ERRORS[code].description)), () => socket.destroy());
}

/**
 * The server's `connect` handler: CONNECT (proxy tunnelling) is not something Nimbus offers. Without
 * a handler Node drops the connection without a word.
 */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => undefined);
  const error = new NimbusError('METHOD_NOT_ALLOWED', 'CONNECT is not supported: Nimbus is not a proxy.');
  socket.end(rawResponse(error), () => socket.destroy());
}

/**
 * The server's `checkExpectation` handler: an `Expect` other than `100-continue` is refused with a
 * catalogue error (Node's own answer would be a bare 417).
 */
export function refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close');
  sendError(res, new NimbusError('EXPECTATION_FAILED', `Expect: ${JSON.stringify(String(req.headers.expect).slice(0, 100))} is not supported; only 100-continue is.`));
  req.resume();
}

/** A complete HTTP/1.1 error response, written straight to a socket (there is no ServerResponse). */
function rawResponse(error: NimbusError): string {
  const body = JSON.stringify(error.toJSON());
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'connection: close',
    `${ERROR_HEADER}: ${error.code}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
