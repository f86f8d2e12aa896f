/**
 * wrk's side of a {@link RequestSpec}: a Lua script that sets the method, headers and body, and
 * counts the answers whose status is not the expected one (wrk itself counts only non-2xx/3xx,
 * so a 200 where a 202 was expected would pass unnoticed). Defining `response()` makes wrk hand
 * every answer to Lua, which costs the generator a little CPU per request: runs that are compared
 * with each other (the async accept and the sync call of the same function) both use a script.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestSpec } from './load.js';

/** Scripts written so far in this process, so each gets a file name of its own. */
let written = 0;

/** A Lua long string holding `text` as is (no escapes to get wrong). */
function luaString(text: string): string {
  let level = '';
  while (text.includes(`]${level}]`)) level += '=';
  return `[${level}[${text}]${level}]`;
}

/** The script's source; the expected status comes as wrk's first script argument. */
export function wrkScript(request: RequestSpec): string {
  const headers = Object.entries(request.headers).map(([name, value]) => `wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`);
  return [
    `wrk.method = ${luaString(request.method)}`,
    `wrk.body = ${luaString(request.body)}`,
    ...headers,
    'local threads = {}',
    'function setup(thread) table.insert(threads, thread) end',
    'function init(args) expected = tonumber(args[1]); unexpected = 0 end',
    'function response(status, headers, body) if status ~= expected then unexpected = unexpected + 1 end end',
    'function done(summary, latency, requests)',
    '  local n = 0',
    '  for _, thread in ipairs(threads) do n = n + thread:get("unexpected") end',
    '  io.write(string.format("Unexpected status: %d\\n", n))',
    'end',
    '',
  ].join('\n');
}

/** Writes the script into the request's scratch folder; returns its path. */
export function writeWrkScript(request: RequestSpec): string {
  const path = join(request.scratchDir, `wrk-request-${++written}.lua`);
  writeFileSync(path, wrkScript(request));
  return path;
}

/** The count the script's `done()` printed. @throws Error when the line is missing (the script did not run). */
export function parseUnexpected(output: string): number {
  const match = output.match(/^Unexpected status: (\d+)$/m);
  if (!match) throw new Error(`wrk printed no "Unexpected status" line: ${output.slice(-300)}`);
  return Number(match[1]);
}
