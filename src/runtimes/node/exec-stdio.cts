/**
 * The `stdio` protocol of the exec runtime, after OpenFaaS's classic watchdog: one process per
 * invocation; the request body on its stdin; the request line and headers in its environment
 * (`Http_Method`, `Http_Path`, `Http_Query`, and `Http_<Header_Name>` with `-` as `_`); its
 * stdout is the response body (200, `Content-Type` from the function's `content_type` variable,
 * else text/plain); its stderr goes to the logs, tagged with the invocation. A non-zero exit is a
 * handler error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { spawnCommand } from './exec-http.cjs';
import { logLines } from './exec-lines.cjs';
import { failInvocation } from './http-util.cjs';

/** Largest response a stdio program may write: the rest would be held in memory. */
const MAX_STDOUT_BYTES = 32 * 1024 * 1024;

/** `x-forwarded-for` -> `Http_X_Forwarded_For`, as the classic watchdog names them. */
function headerVariable(name: string): string {
  return `Http_${name.split('-').map((part) => (part ? part[0]!.toUpperCase() + part.slice(1) : part)).join('_')}`;
}

function requestEnv(req: IncomingMessage): Record<string, string> {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const env: Record<string, string> = {
    Http_Method: req.method ?? 'GET',
    Http_Path: query === -1 ? url : url.slice(0, query),
    Http_Query: query === -1 ? '' : url.slice(query + 1),
  };
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    env[headerVariable(name)] = Array.isArray(value) ? value.join(', ') : value;
  }
  return env;
}

/** Runs the program for one invocation; never rejects (failures are answered on `res`). */
export function runStdio(command: string, cwd: string, env: Record<string, string>, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawnCommand(command, cwd, { ...env, ...requestEnv(req) });
    const chunks: Buffer[] = [];
    let size = 0;
    let lastError = '';
    let overflow = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_STDOUT_BYTES) {
        overflow = true;
        child.kill('SIGKILL');
      } else {
        chunks.push(chunk);
      }
    });
    child.stdout!.on('error', () => undefined);
    logLines(child.stderr!, 'err', id, (line) => (lastError = line));
    // The platform gave up (deadline, client gone): the program's work is wasted, stop it.
    res.once('close', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    req.pipe(child.stdin!);
    child.once('error', (err) => {
      failInvocation(res, 'HANDLER_ERROR', new Error(`${command} could not start: ${err.message}`), id);
      resolve();
    });
    child.once('close', (code, signal) => {
      if (overflow) {
        failInvocation(res, 'INVALID_RESPONSE', new Error(`${command} wrote more than ${MAX_STDOUT_BYTES} bytes to stdout`), id);
      } else if (code !== 0) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        failInvocation(res, 'HANDLER_ERROR', new Error(`${command} ${how}${lastError ? `: ${lastError}` : ''}`), id);
      } else if (!res.destroyed) {
        const body = Buffer.concat(chunks);
        res.writeHead(200, { 'content-type': env.content_type ?? 'text/plain; charset=utf-8', 'content-length': String(body.length) });
        res.end(body);
      }
      resolve();
    });
  });
}
