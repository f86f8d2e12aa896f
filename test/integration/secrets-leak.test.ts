/**
 * A secret's value, once set, appears nowhere the platform writes: not in API responses (success or
 * error), not in the platform's own log, not on disk in plain text. The function does get it. What
 * the function does with it (e.g. print it to its own log) is the function's business.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { KEY_FILE } from '../../src/secrets/key.js';
import { deploy, invoke, startPlatform, type TestPlatform, waitFor } from './harness.js';
import { type Answer, apiCall, rawExchange, rawRequest, setSecret } from './http.js';

/** A log stream kept in memory (the platform logs to it at the most verbose level). */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { options: { logStream: stream, logLevel: 'trace' }, text: () => lines.join('') };
}

/** Answers sha256 of its secret, never the secret; `/print` writes the secret to its own log. */
const FN = {
  file: 'index.js',
  content: `import { createHash } from 'node:crypto';
export default (req) => {
  const value = process.env.LEAK_SECRET ?? '';
  if (new URL(req.url).pathname === '/print') console.log('my secret is ' + value);
  console.log('handled');
  return new Response(createHash('sha256').update(value).digest('hex'));
};`,
};

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Files under `dir` containing `value` as plain text, base64 or hex. */
async function filesContaining(dir: string, value: string): Promise<string[]> {
  const needles = [Buffer.from(value), Buffer.from(Buffer.from(value).toString('base64')), Buffer.from(Buffer.from(value).toString('hex'))];
  const hits: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    if (needles.some((n) => bytes.includes(n))) hits.push(file);
  }
  return hits;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** True when `text` has any 10-character piece of `value` (messages may quote a truncated start). */
function showsPart(text: string, value: string): boolean {
  for (let i = 0; i + 10 <= value.length; i++) if (text.includes(value.slice(i, i + 10))) return true;
  return false;
}

test('a secret value never appears in responses, errors, platform logs or on disk; the function gets it', async () => {
  const VALUE = `zq-${randomBytes(12).toString('hex')}`;
  const log = capturingLogger();
  const platform = await startPlatform({ ...log.options, keepData: true });
  const seen: string[] = [];
  const keep = (answer: Answer) => {
    seen.push(JSON.stringify(answer.headers), answer.text);
    return answer;
  };
  const call = async (method: string, path: string, options: Parameters<typeof apiCall>[3] = {}) => keep(await apiCall(platform.url, method, path, options));
  try {
    // Set it both ways, list and get it, use it in a deploy.
    assert.equal(keep(await setSecret(platform.url, 'LEAK_SECRET', VALUE)).status, 201);
    assert.equal((await call('PUT', '/api/v1/secrets/LEAK_SECRET', { json: { value: VALUE } })).status, 200);
    await call('GET', '/api/v1/secrets');
    await call('GET', '/api/v1/secrets/LEAK_SECRET');
    seen.push(JSON.stringify(await deploy(platform.url, 'leaky', FN, { secrets: ['LEAK_SECRET'] })));
    await call('GET', '/api/v1/functions');
    await call('GET', '/api/v1/functions/leaky');
    await call('GET', '/api/v1/openapi.json');

    // The function gets the value (it answers its hash), and its platform-made logs do not show it.
    const res = await invoke(platform.url, 'leaky');
    seen.push(JSON.stringify(res.headers), res.text);
    assert.equal(res.text, sha256(VALUE));
    await waitFor(async () => (await apiCall(platform.url, 'GET', '/api/v1/functions/leaky/logs')).text.includes('handled'), 20_000, 'the log line');
    await call('GET', '/api/v1/functions/leaky/logs');

    // Refused requests that carry the value: none of the errors quotes it.
    const refusals: Array<[string, string, Parameters<typeof apiCall>[3], string]> = [
      ['PUT', '/api/v1/secrets/lower_case', { body: VALUE }, 'INVALID_SECRET_NAME'],
      ['PUT', `/api/v1/secrets/${VALUE}`, { body: VALUE }, 'INVALID_SECRET_NAME'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { body: `${VALUE}\0` }, 'INVALID_REQUEST'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { body: Buffer.concat([Buffer.from(VALUE), Buffer.from([0xc3])]) }, 'INVALID_REQUEST'],
      // JSON.parse's own message would quote the start of this one.
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { body: VALUE, headers: { 'content-type': 'application/json' } }, 'INVALID_JSON'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { body: `{"value":"${VALUE}`, headers: { 'content-type': 'application/json' } }, 'INVALID_JSON'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { body: `{"value":"${VALUE}"}x`, headers: { 'content-type': 'application/json' } }, 'INVALID_JSON'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { json: { value: VALUE, extra: VALUE } }, 'INVALID_REQUEST'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { json: [VALUE] }, 'INVALID_REQUEST'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { json: { value: [VALUE] } }, 'INVALID_REQUEST'],
      ['PUT', '/api/v1/secrets/LEAK_SECRET', { body: VALUE.repeat(3000) }, 'PAYLOAD_TOO_LARGE'],
      ['PUT', '/api/v1/functions/leaky', { json: { package: 'f'.repeat(64), secrets: [VALUE] } }, 'INVALID_REQUEST'],
      ['DELETE', '/api/v1/secrets/LEAK_SECRET', {}, 'SECRET_IN_USE'],
      ['DELETE', `/api/v1/secrets/${VALUE}`, {}, 'INVALID_SECRET_NAME'],
    ];
    for (const [method, path, options, code] of refusals) {
      const answer = await call(method, path, options);
      assert.equal(answer.json?.error?.code, code, `${method} ${path.slice(0, 40)}: ${answer.text.slice(0, 200)}`);
    }
    const cut = keep(await rawExchange(platform.url, rawRequest('PUT', '/api/v1/secrets/CUT', { 'content-length': '1000' }, VALUE), { halfClose: true }));
    assert.equal(cut.json?.error?.code, 'BAD_REQUEST', 'a body cut short is a bad request (not an internal error)');
    // The data dir holds no plain text, base64 or hex of the value while running…
    assert.deepEqual(await filesContaining(platform.dataDir, VALUE), []);
  } finally {
    await platform.server.close();
  }
  try {
    // …nor once the store is closed (WAL checkpointed into nimbus.db).
    assert.deepEqual(await filesContaining(platform.dataDir, VALUE), []);
    const leaks = seen.filter((s) => showsPart(s, VALUE));
    assert.deepEqual(leaks, [], 'no response shows the value');
    assert.ok(log.text().includes('nimbus serving'), 'the capture works');
    assert.ok(!showsPart(log.text(), VALUE), 'the platform log does not show the value');
    assert.doesNotMatch(log.text(), /internal error/);
  } finally {
    await platform.close();
  }
});

test("what the function prints is its own log's business", async () => {
  const platform = await startPlatform();
  try {
    await setSecret(platform.url, 'LEAK_SECRET', 'printed-by-the-function');
    await deploy(platform.url, 'printer', FN, { secrets: ['LEAK_SECRET'] });
    assert.equal((await invoke(platform.url, 'printer/print')).status, 200);
    await waitFor(async () => (await apiCall(platform.url, 'GET', '/api/v1/functions/printer/logs')).text.includes('my secret is printed-by-the-function'), 20_000, 'the printed line');
  } finally {
    await platform.close();
  }
});

test('with another key file, starting an instance fails with SECRET_DECRYPT_FAILED naming the secret, not its value; setting it again recovers', async () => {
  const VALUE = `zq-${randomBytes(12).toString('hex')}`;
  let platform: TestPlatform = await startPlatform({ keepData: true });
  const dataDir = platform.dataDir;
  await setSecret(platform.url, 'LEAK_SECRET', VALUE);
  await deploy(platform.url, 'leaky', FN, { secrets: ['LEAK_SECRET'] });
  assert.equal((await invoke(platform.url, 'leaky')).text, sha256(VALUE));
  await platform.close();

  await writeFile(join(dataDir, KEY_FILE), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const log = capturingLogger();
  platform = await startPlatform({ dataDir, ...log.options, expectErrors: [/SECRET_DECRYPT_FAILED/] });
  try {
    const res = await invoke(platform.url, 'leaky');
    assert.equal(res.status, 500);
    assert.equal(res.headers['x-nimbus-error'], 'SECRET_DECRYPT_FAILED');
    const error = JSON.parse(res.text).error;
    assert.match(error.message, /The secret LEAK_SECRET cannot be decrypted: it was encrypted with another key than the data directory's secrets\.key/);
    assert.equal(error.details.secret, 'LEAK_SECRET');
    assert.ok(!showsPart(res.text, VALUE));
    assert.match(log.text(), /"code":"SECRET_DECRYPT_FAILED"/, 'the operator hears about it');
    assert.ok(!showsPart(log.text(), VALUE));
    // Metadata stays readable without the key.
    assert.equal((await apiCall(platform.url, 'GET', '/api/v1/secrets/LEAK_SECRET')).status, 200);

    assert.equal((await setSecret(platform.url, 'LEAK_SECRET', 'new value')).status, 200);
    const fixed = await invoke(platform.url, 'leaky');
    assert.equal(fixed.status, 200);
    assert.equal(fixed.text, sha256('new value'));
  } finally {
    await platform.close();
  }
});
