import { type Command, InvalidArgumentError } from 'commander';
import { FUNCTION_NAME_PATTERN, IDEMPOTENCY_KEY_MAX_LENGTH, LIMITS, formatDuration, parseDuration, secretNameProblem } from '../api/wire.js';

/**
 * Parsers for command-line values. Each throws commander's InvalidArgumentError with a message
 * saying what is expected, so a bad flag is a usage error (exit 2) before anything is sent.
 */

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` (the value may contain `=` and be empty). */
export function parseEnvPair(value: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    throw new InvalidArgumentError(`--env needs KEY=VALUE (e.g. --env GREETING=hello), got ${JSON.stringify(value)}.`);
  }
  const key = value.slice(0, eq);
  if (!ENV_KEY.test(key)) {
    throw new InvalidArgumentError(
      `--env key ${JSON.stringify(key)} is not a valid name: use letters, digits and _, not starting with a digit.`,
    );
  }
  if (key.startsWith('NIMBUS_')) {
    throw new InvalidArgumentError(`--env key ${JSON.stringify(key)}: keys starting with NIMBUS_ are reserved by the platform.`);
  }
  return [key, value.slice(eq + 1)];
}

/** Commander collector for repeated `--env KEY=VALUE`: later values of a key win. */
export function collectEnv(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const [key, val] = parseEnvPair(value);
  return { ...previous, [key]: val };
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `Key: Value` (curl style). The value may be empty and may contain `:`. */
export function parseHeader(value: string): [string, string] {
  const colon = value.indexOf(':');
  const name = colon < 0 ? '' : value.slice(0, colon).trim();
  if (colon < 0 || !name) {
    throw new InvalidArgumentError(`--header needs 'Key: Value' (e.g. --header 'Content-Type: application/json'), got ${JSON.stringify(value)}.`);
  }
  if (!HEADER_NAME.test(name)) {
    throw new InvalidArgumentError(`--header name ${JSON.stringify(name)} is not a valid HTTP header name.`);
  }
  const val = value.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(val)) throw new InvalidArgumentError(`--header ${name}: the value must not contain line breaks.`);
  return [name, val];
}

/** Commander collector for repeated `--header 'Key: Value'`. */
export function collectHeader(value: string, previous: [string, string][] | undefined): [string, string][] {
  return [...(previous ?? []), parseHeader(value)];
}

/** Groups headers by lower-cased name, keeping repeated ones as arrays. */
export function headersToObject(pairs: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else out[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

/**
 * A duration flag such as `--timeout 30s`: a number of seconds or `500ms`, `30s`, `5m`, `1h`, `7d`.
 * Answers milliseconds; refuses values outside `range` with the allowed range in the message.
 */
export function parseDurationFlag(flag: string, value: string, range?: { min: number; max: number }): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new InvalidArgumentError(`${flag} must be a duration such as 500ms, 30s, 5m, 1h or 7d (a bare number is seconds), got ${JSON.stringify(value)}.`);
  }
  if (range && (ms < range.min || ms > range.max)) {
    throw new InvalidArgumentError(
      `${flag} must be between ${formatDuration(range.min)} and ${formatDuration(range.max)}, got ${JSON.stringify(value)}.`,
    );
  }
  return ms;
}

/** A whole number within `range` (`max` Infinity: no upper bound). */
export function parseIntFlag(flag: string, value: string, range: { min: number; max: number }, unit = ''): number {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) throw new InvalidArgumentError(`${flag} must be a whole number, got ${JSON.stringify(value)}.`);
  const n = Number(trimmed);
  if (n < range.min || n > range.max) {
    const allowed = range.max === Infinity ? `at least ${range.min}${unit}` : `between ${range.min}${unit} and ${range.max}${unit}`;
    throw new InvalidArgumentError(`${flag} must be ${allowed}, got ${n}${unit}.`);
  }
  return n;
}

/**
 * A point in time for the API's `since`/`until`: a duration back from now (`30m`, `7d`) or an ISO
 * time (`2026-12-01`, `2026-12-01T12:00:00Z`), passed on as written once it looks right.
 */
export function parseTimeFlag(flag: string): (value: string) => string {
  return (value) => {
    const text = value.trim();
    if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(text) || (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(Date.parse(text)))) return text;
    throw new InvalidArgumentError(`${flag} must be a duration back from now (30m, 12h, 30d) or an ISO time (2026-12-01, 2026-12-01T12:00:00Z), got ${JSON.stringify(value)}.`);
  };
}

/** A price flag: a decimal number >= 0, in whatever currency the user bills in. */
export function parsePrice(flag: string, value: string): number {
  const trimmed = value.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) throw new InvalidArgumentError(`${flag} must be a number >= 0 such as 0.20 or 0.0000166667, got ${JSON.stringify(value)}.`);
  return Number(trimmed);
}

/** `--memory`: MB as a number (`512`), or with a unit (`512mb`, `1gb`). Answers MB. */
export function parseMemory(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(m|mb|mi|mib|g|gb|gi|gib)?$/i.exec(value.trim());
  const { min, max } = LIMITS.memoryMb;
  if (!match) {
    throw new InvalidArgumentError(`--memory must be a number of MB (e.g. --memory 512, or 1gb), got ${JSON.stringify(value)}.`);
  }
  const unit = (match[2] ?? 'mb').toLowerCase();
  const mb = Number(match[1]) * (unit.startsWith('g') ? 1024 : 1);
  if (!Number.isInteger(mb)) throw new InvalidArgumentError(`--memory must be a whole number of MB, got ${JSON.stringify(value)}.`);
  if (mb < min || mb > max) throw new InvalidArgumentError(`--memory must be between ${min} and ${max} MB, got ${mb} MB.`);
  return mb;
}

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** A size such as `6mb`, `512kb`, `1gb` or a number of bytes (binary units). Answers bytes. */
export function parseSize(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const factor = match ? SIZE_UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new InvalidArgumentError(`${flag} must be a size such as 6mb, 512kb or a number of bytes, got ${JSON.stringify(value)}.`);
  }
  const bytes = Math.floor(Number(match[1]) * factor);
  if (bytes < 1) throw new InvalidArgumentError(`${flag} must be at least 1 byte.`);
  return bytes;
}

/** Bytes in the units `parseSize` reads, for help texts: `6mb`, `512kb`, `1gb`, else bytes. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/**
 * A comma-separated list (`--callback-hosts a.example,*.b.example`): items trimmed, empty ones
 * dropped, so `''` is the empty list. The items themselves are checked where they are used.
 */
export function parseHostList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A TCP port, 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  return parseIntFlag('--port', value, { min: 0, max: 65_535 });
}

/** A function name (DNS label), checked before anything is sent. */
export function parseFunctionName(value: string): string {
  if (!FUNCTION_NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      `invalid function name ${JSON.stringify(value.slice(0, 80))}: use 1-63 lowercase letters, digits or '-', starting with a letter and not ending with '-'.`,
    );
  }
  return value;
}

/**
 * `--on-success` / `--on-failure`: a function name, or `''`, which removes the destination the
 * previous version had (sent as null: commander turns a parser's null into `''`, so the body
 * builder maps it).
 */
export function parseDestination(value: string): string {
  return value === '' ? '' : parseFunctionName(value);
}

/**
 * A function name made from a file or folder name, for deploys without `--name`: lowercased, runs
 * of other characters as one `-`, a leading `fn-` when it does not start with a letter, at most 63
 * characters. Undefined when nothing usable is left.
 */
export function functionNameFrom(base: string): string | undefined {
  let name = base
    .replace(/\.(c|m)?(js|ts)x?$|\.py$|\.sh$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name === '') return undefined;
  if (!/^[a-z]/.test(name)) name = `fn-${name}`;
  name = name.slice(0, 63).replace(/-+$/, '');
  return FUNCTION_NAME_PATTERN.test(name) ? name : undefined;
}

/** `--path`: the sub-path (and query) after /fn/<name>; a leading `/` is added when missing. */
export function parseSubPath(value: string): string {
  if (/[\s\0]/.test(value)) throw new InvalidArgumentError(`--path must not contain spaces or control characters; encode them (e.g. %20).`);
  if (value === '' || value === '/') return value;
  return value.startsWith('/') || value.startsWith('?') ? value : `/${value}`;
}

/** `--method`: an HTTP method token, upper-cased. */
export function parseMethod(value: string): string {
  if (!/^[A-Za-z]+$/.test(value)) throw new InvalidArgumentError(`--method must be an HTTP method such as GET or POST, got ${JSON.stringify(value)}.`);
  return value.toUpperCase();
}

/** `--idempotency-key`: 1 to 256 printable ASCII characters (it travels in a header). */
export function parseIdempotencyKey(value: string): string {
  if (value.length === 0 || value.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw new InvalidArgumentError(`--idempotency-key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters, got ${value.length}.`);
  }
  if (!/^[\x20-\x7e]+$/.test(value) || value.trim() !== value) {
    throw new InvalidArgumentError(`--idempotency-key must be printable ASCII without leading or trailing spaces (e.g. a UUID or order-1234).`);
  }
  return value;
}

/** Longest `--callback-url` the platform accepts. */
const CALLBACK_URL_MAX_LENGTH = 2048;

/** `--callback-url`: an absolute http:// or https:// URL without credentials, where the platform POSTs the outcome. */
export function parseCallbackUrl(value: string): string {
  if (/[\s\x00-\x1f\x7f]/.test(value)) throw new InvalidArgumentError(`--callback-url must not contain spaces or control characters; encode them (e.g. %20).`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`--callback-url must be an absolute URL such as https://example.com/hook, got ${JSON.stringify(value.slice(0, 200))}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`--callback-url must be an http:// or https:// URL, got ${JSON.stringify(url.protocol)}.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError('--callback-url must not carry credentials (user:password@): the platform would store and log them. Put a secret in the path or query instead.');
  }
  if (value.length > CALLBACK_URL_MAX_LENGTH) throw new InvalidArgumentError(`--callback-url must be at most ${CALLBACK_URL_MAX_LENGTH} characters, got ${value.length}.`);
  return value;
}

/** A secret name (`DB_PASSWORD`), checked before anything is sent. */
export function parseSecretName(value: string): string {
  const problem = secretNameProblem(value);
  if (problem) throw new InvalidArgumentError(problem.replace(/^Invalid/, 'invalid'));
  return value;
}

/** Commander collector for repeated `--secret NAME`; a name given twice counts once. */
export function collectSecret(value: string, previous: string[] | undefined): string[] {
  const name = parseSecretName(value);
  return previous?.includes(name) ? previous : [...(previous ?? []), name];
}

/** Values of the instance limits, as the help shows them. */
export interface InstanceLimitValues {
  maxProcesses: number;
  maxOpenFiles: number;
  tmpMb: number;
}

/** The platform's instance limits unless `nimbus up` sets others (the API's defaults). */
const API_INSTANCE_LIMITS: InstanceLimitValues = {
  maxProcesses: LIMITS.maxProcesses.default,
  maxOpenFiles: LIMITS.maxOpenFiles.default,
  tmpMb: LIMITS.tmpMb.default,
};

/**
 * Adds --max-processes, --max-open-files and --tmp-size (instance limits) to a command; `note`
 * starts the help's note on the default values (e.g. `default: `), which are `defaults`.
 */
export function addInstanceLimitOptions(command: Command, note: string, defaults: InstanceLimitValues = API_INSTANCE_LIMITS): Command {
  const { maxProcesses, maxOpenFiles, tmpMb } = LIMITS;
  return command
    .option('--max-processes <n>', `processes and threads one instance may run (${note}${defaults.maxProcesses})`, (v) =>
      parseIntFlag('--max-processes', v, maxProcesses),
    )
    .option('--max-open-files <n>', `open files per instance process (${note}${defaults.maxOpenFiles})`, (v) => parseIntFlag('--max-open-files', v, maxOpenFiles))
    .option('--tmp-size <mb>', `size of each instance's private /tmp in MB (${note}${defaults.tmpMb})`, (v) => parseIntFlag('--tmp-size', v, tmpMb));
}
