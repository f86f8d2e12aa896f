/**
 * Broker metadata (headers, user properties, message properties, stream fields) as CloudEvents
 * extension attributes: the one place for their name and value rules, for every kind. CloudEvents 1.0 allows names of lowercase
 * a-z and 0-9, at most 20 characters; a name that does not fit is left out rather than rewritten
 * (rewriting could make two names one, or shadow a name the source sets itself).
 */

/** Names CloudEvents 1.0 reserves for its context attributes and the data. */
const RESERVED = new Set(['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema', 'data', 'data_base64']);

/** Whether `name` may be used as an extension attribute name. */
export function isExtensionName(name: string): boolean {
  return /^[a-z0-9]{1,20}$/.test(name) && !RESERVED.has(name);
}

/**
 * A broker value as an extension value: strings, numbers, booleans and bigints as text; anything
 * else (tables, arrays, binary) is left out (undefined). Control characters cannot travel in a
 * `ce-` header, so a value holding one is left out too.
 */
export function extensionValue(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else return undefined;
  return /[\u0000-\u0008\u000a-\u001f\u007f]/.test(text) ? undefined : text;
}

/**
 * Adds `candidates` whose names fit and whose values can be sent to `extensions`, keeping what is
 * already there (the source's own attributes win).
 */
export function addExtensions(extensions: Record<string, string>, candidates: Iterable<[string, unknown]>): void {
  for (const [name, raw] of candidates) {
    if (!isExtensionName(name) || Object.hasOwn(extensions, name)) continue;
    const value = extensionValue(raw);
    if (value !== undefined) extensions[name] = value;
  }
}

/**
 * Broker headers (or user properties) as extensions named `<prefix><name>`: the name lowercased;
 * names that do not fit ({@link isExtensionName}: `Nats-Msg-Id`, `trace_id`, too long) and names
 * the source sets itself (`reserved`) are left out. Repeated headers are joined with `,` (as HTTP
 * does), so values are kept as they are.
 */
export function headerExtensions(
  prefix: string,
  headers: Iterable<[string, string[]]>,
  reserved: ReadonlySet<string>,
): Record<string, string> {
  const extensions: Record<string, string> = {};
  for (const [name, values] of headers) {
    const extension = `${prefix}${name.toLowerCase()}`;
    if (!isExtensionName(extension) || reserved.has(extension)) continue;
    extensions[extension] = extensions[extension] === undefined ? values.join(',') : `${extensions[extension]},${values.join(',')}`;
  }
  return extensions;
}
