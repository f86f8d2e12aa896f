/**
 * The dashboard end to end in a real browser (Debian's chromium, driven by playwright-core): a
 * wrong token shows the API's error; signed in with the admin token, the deployed function is in
 * the table; invoked from its page (sync, then async), its answer, its log lines, its invocation
 * and that invocation's record and logs appear; the charts, usage, invocations and async pages
 * render; a cron trigger shows on the triggers page, is paused and resumed there (refused with a
 * read token), its invocations appear with source trigger, and triggers are made and removed; the
 * stats, charts and usage sections show the platform's figures, and format known ones exactly. No
 * page may break the CSP, throw, or reach another origin.
 * Screenshots go to test-output/screenshots/ (git-ignored).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { request } from 'undici';
import { BROKEN_FUNCTION, historyStub, LOGGING_FUNCTION } from './dashboard-fixtures.js';
import { api, deploy, ROOT, startPlatform, type TestPlatform, waitFor } from './harness.js';
import { listening } from '../triggers/private-broker.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('dashboard in a browser', { skip: !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `${CHROMIUM} not installed (apt-get install chromium)` : false }, () => {
  let platform: TestPlatform;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const problems: string[] = [];

  before(async () => {
    platform = await startPlatform();
    // No network: the function needs none, and the test does not depend on pasta.
    await deploy(platform.url, 'hello', LOGGING_FUNCTION, { network: platform.server.sandbox === 'bubblewrap' ? 'none' : 'host' });
    // Fails every time, no retries: its async invocations become dead letters at once.
    await deploy(platform.url, 'broken', BROKEN_FUNCTION, { network: platform.server.sandbox === 'bubblewrap' ? 'none' : 'host', maxRetries: 0 });
    await mkdir(SCREENSHOTS, { recursive: true });
    profile = await mkdtemp(join(tmpdir(), 'nimbus-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 }, timeout: 30_000 });
    context.setDefaultTimeout(15_000);
    page = context.pages()[0] ?? (await context.newPage());
    const origin = new URL(platform.url).origin;
    page.on('console', (message) => {
      // Answers with an error status are logged by the browser; they are expected (404 of a route
      // this platform lacks). CSP violations ("Refused to …") and script errors are not.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (req) => {
      if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) problems.push(`request to another origin: ${req.url()}`);
    });
  });
  after(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await platform?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  test('the platform serves the page with its security headers, open', async () => {
    const res = await request(`${platform.url}/ui/`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(res.headers['content-security-policy']), /script-src 'self';/);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    const index = await res.body.text();
    const script = /src="(\/ui\/app-[\w-]+\.js)"/.exec(index)?.[1];
    assert.ok(script, index);
    const asset = await request(`${platform.url}${script}`);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    await asset.body.dump();
  });

  test('a wrong token shows the API error and stays on the sign-in form', async () => {
    await page.goto(`${platform.url}/ui/`);
    await page.fill('input[name=token]', 'nmb_not-a-token');
    await page.click('button[type=submit]');
    const error = page.getByTestId('sign-in-error');
    await error.waitFor();
    assert.match(await error.innerText(), /token/i);
    await shot('01-wrong-token');
  });

  test('signed in with the admin token, the function is in the table', async () => {
    await page.fill('input[name=token]', platform.token);
    await page.click('button[type=submit]');
    const row = page.locator('[data-testid=functions] tr[data-function=hello]');
    await row.waitFor();
    assert.match(await row.innerText(), /hello\s+\S.*\s+node\s+1\s/);
    assert.match(await page.locator('header .who').innerText(), /admin/);
    assert.equal(await page.getByText('not available on this platform').count(), 0);
    await shot('02-functions');
  });

  test('invoked from its page, the answer and the log line appear', async () => {
    await page.click('a:text-is("hello")');
    await page.getByTestId('settings').waitFor();
    await page.fill('input[name=path]', '/from-the-page');
    await page.click('[data-testid=invoke-form] button[type=submit]');
    await page.getByTestId('invoke-status').filter({ hasText: '200' }).waitFor();
    assert.match(await page.getByTestId('invoke-body').innerText(), /"greeting": "hi from the dashboard test"/);
    assert.match(await page.getByTestId('invoke-result').innerText(), /handler\s+\d/);
    await page.getByTestId('log-tail').getByText('dashboard-log GET /from-the-page').waitFor();
    await shot('03-function-invoked');
  });

  test('an async invocation from the page appears with its record and its logs', async () => {
    await page.check('input[name=async]');
    await page.fill('input[name=path]', '/queued');
    await page.click('[data-testid=invoke-form] button[type=submit]');
    await page.getByTestId('invoke-status').filter({ hasText: '202' }).waitFor();
    const id = (await page.getByTestId('invoke-result').locator('code').innerText()).trim();
    assert.match(id, /\S{8,}/);
    const row = page.getByTestId('invocations').locator('tr', { hasText: id.slice(0, 12) });
    await row.getByText('succeeded').waitFor();
    await page.getByTestId('log-tail').getByText('dashboard-log GET /queued').waitFor();
    // Records of sync invocations too, with their source.
    await page.getByTestId('invocations').locator('tr', { hasText: 'http' }).first().waitFor();
    await shot('04-function-recent');
    await row.locator('a').first().click();
    await page.getByTestId('invocation-record').getByText('succeeded').waitFor();
    await page.getByTestId('invocation-logs').getByText('dashboard-log GET /queued').waitFor();
    assert.match(await page.getByTestId('invocation-record').innerText(), /GET \/queued/);
    await shot('05-invocation');
  });

  test('the charts of the last hour', async () => {
    await page.goto(`${platform.url}/ui/#/functions/hello`);
    const charts = page.getByTestId('charts');
    await charts.locator('.uplot canvas').first().waitFor();
    assert.equal(await charts.locator('.uplot').count(), 2);
    await charts.scrollIntoViewIfNeeded();
    await shot('06-charts');
  });

  test('the invocations page filters by function and status', async () => {
    await page.click('header nav a:text-is("Invocations")');
    await page.getByTestId('invocations').waitFor();
    await page.selectOption('select[name=function]', 'hello');
    await page.selectOption('select[name=status]', 'succeeded');
    await page.waitForFunction("location.hash.includes('function=hello') && location.hash.includes('status=succeeded')");
    await page.getByTestId('invocations').locator('tbody tr').first().waitFor();
    const statuses = await page.getByTestId('invocations').locator('tbody tr td:nth-child(3)').allInnerTexts();
    assert.ok(statuses.length >= 1);
    assert.ok(statuses.every((s) => s === 'succeeded'), statuses.join(', '));
    await page.selectOption('select[name=status]', 'dead');
    await page.getByText('No invocations recorded.').waitFor();
    await shot('07-invocations');
  });

  test('usage and async pages', async () => {
    await page.click('header nav a:text-is("Usage")');
    await page.getByTestId('usage-function').locator('tbody tr', { hasText: 'hello' }).waitFor();
    await page.getByTestId('usage-day').waitFor();
    await shot('08-usage');
    await page.click('header nav a:text-is("Async")');
    await page.getByTestId('backlog').locator('tr', { hasText: 'hello' }).waitFor();
    await page.getByText('No dead letters.').waitFor();
  });

  test('a dead letter is listed on the async page and redriven from it', async () => {
    const accepted = await request(`${platform.url}/async/broken`, { method: 'POST', body: 'x' });
    assert.equal(accepted.statusCode, 202);
    const { id } = (await accepted.body.json()) as { id: string };
    const dead = page.getByTestId('dead-broken');
    await dead.locator('ul.select-list').getByText(id.slice(0, 12)).waitFor().catch(async (err: unknown) => {
      await shot('09-async-dead-letter-missing');
      throw err;
    });
    assert.match(await page.getByTestId('backlog').locator('tr', { hasText: 'broken' }).innerText(), /broken\s+0\s+0\s+0\s+1\s/);
    await shot('09-async-dead-letter');
    await dead.locator('input[type=checkbox]').first().check();
    await dead.getByText('Redrive selected (1)').click();
    // The message stays when the redrive empties the function's dead letters (its section goes).
    await page.getByTestId('redrive-message').getByText('broken: queued again: 1.').waitFor();
    await shot('09b-async-redriven');
  });

  test('a cron trigger on the triggers page: active, paused and resumed from the page, its invocations on the function page', async () => {
    const created = await api(platform.url, 'PUT', '/api/v1/triggers/every-second', { function: 'hello', type: 'cron', settings: { schedule: '*/1 * * * * *' } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    await page.click('header nav a:text-is("Triggers")');
    const row = page.getByTestId('triggers').locator('tr[data-trigger=every-second]');
    const status = row.getByTestId('trigger-status');
    await status.filter({ hasText: 'active' }).waitFor();
    assert.match(await row.innerText(), /every-second\s+hello\s+cron\s+\*\/1 \* \* \* \* \*\s+active/);
    await shot('13-triggers');
    await row.getByRole('button', { name: 'Pause' }).click();
    await status.filter({ hasText: 'paused' }).waitFor();
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/every-second')).json?.status, 'paused');
    await shot('14-trigger-paused');
    await row.getByRole('button', { name: 'Resume' }).click();
    await status.filter({ hasText: 'active' }).waitFor();
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/every-second')).json?.state, 'active');

    await row.getByRole('link', { name: 'hello' }).click();
    const own = page.getByTestId('triggers').locator('tr[data-trigger=every-second]');
    await own.getByTestId('trigger-status').filter({ hasText: 'active' }).waitFor();
    // The cron source fires every second: its async invocations appear among the recent ones.
    await page.getByTestId('invocations').locator('tr', { hasText: 'trigger every-second' }).first().getByText('succeeded').waitFor();
    await own.scrollIntoViewIfNeeded();
    await shot('15-function-triggers');

    await page.goto(`${platform.url}/ui/#/invocations?source=trigger`);
    await page.getByTestId('invocations').locator('tbody tr').first().waitFor();
    assert.equal(await page.locator('select[name=source]').inputValue(), 'trigger');
    const sources = await page.getByTestId('invocations').locator('tbody tr td:nth-child(5)').allInnerTexts();
    assert.ok(sources.length >= 1 && sources.every((s) => s === 'trigger every-second'), sources.join(', '));
    await shot('16-invocations-trigger');
  });

  test('a read-only token sees the API refusal; a cron trigger is made from the form and removed after confirming', async () => {
    const reader = await api(platform.url, 'POST', '/api/v1/tokens', { name: 'dashboard reader', scope: 'read' });
    assert.equal(reader.status, 201);
    await page.goto(`${platform.url}/ui/#/triggers`);
    await page.evaluate(`sessionStorage.setItem('nimbus.token', ${JSON.stringify(reader.json?.token)})`);
    await page.reload();
    const row = page.getByTestId('triggers').locator('tr[data-trigger=every-second]');
    await row.getByRole('button', { name: 'Pause' }).click();
    const refused = page.getByTestId('trigger-message');
    await refused.waitFor();
    assert.match(await refused.innerText(), /^every-second: .*scope/i);
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/every-second')).json?.state, 'active');
    await shot('17-trigger-read-only');
    await page.evaluate(`sessionStorage.setItem('nimbus.token', ${JSON.stringify(platform.token)})`);
    await page.reload();

    const form = page.getByTestId('trigger-form');
    const create = () => form.getByRole('button', { name: 'Create trigger' }).click();
    await form.locator('input[name=trigger-name]').fill('nightly');
    await form.locator('select[name=trigger-function]').selectOption('hello');
    await form.locator('input[name=schedule]').fill('not a schedule');
    await create();
    await form.getByTestId('trigger-form-message').filter({ hasText: /schedule/i }).waitFor();
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/nightly')).status, 404);
    await form.locator('input[name=schedule]').fill('0 3 * * *');
    await form.locator('input[name=timezone]').fill('Europe/Zurich');
    await create();
    const nightly = page.getByTestId('triggers').locator('tr[data-trigger=nightly]');
    await nightly.waitFor();
    // `starting` until its source said it consumes (the page refreshes every 5 s).
    await nightly.getByTestId('trigger-status').filter({ hasText: 'active' }).waitFor();
    assert.match(await nightly.innerText(), /nightly\s+hello\s+cron\s+0 3 \* \* \*, zone Europe\/Zurich\s+active/);
    await shot('18-trigger-created');

    // Another kind from the same form: its own fields; a broker it cannot reach is refused with the reason.
    await form.locator('select[name=trigger-type]').selectOption('nats');
    await form.locator('input[name=trigger-name]').fill('orders');
    await form.locator('input[name=subject]').fill('dashboard.orders.>');
    await form.locator('input[name=url]').fill('nats://127.0.0.1:1');
    await create();
    await form.getByTestId('trigger-form-message').filter({ hasText: /cannot connect to nats:\/\/127\.0\.0\.1:1/ }).waitFor();
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/orders')).status, 404);
    const natsListens = await listening(4222);
    if (natsListens) {
      await form.locator('input[name=url]').fill('');
      await create();
      const orders = page.getByTestId('triggers').locator('tr[data-trigger=orders]');
      await orders.getByTestId('trigger-status').filter({ hasText: 'active' }).waitFor();
      assert.match(await orders.innerText(), /orders\s+hello\s+nats\s+subject dashboard\.orders\.>\s+active/);
      await shot('18a-nats-trigger-created');
    } else {
      assert.notEqual(process.env.CI, 'true', 'NATS listens on 127.0.0.1:4222 in CI');
    }

    // A folder that is not there (a broker nobody listens on is refused at create): the trigger is
    // failing, with the source's error and since when.
    const unreachable = await api(platform.url, 'PUT', '/api/v1/triggers/unreachable', { function: 'hello', type: 'file', settings: { path: '/nonexistent/nimbus-dashboard' } });
    assert.equal(unreachable.status, 201, JSON.stringify(unreachable.json));
    // Once the API says so, a reload shows it (rather than waiting for the page's 5 s refresh).
    await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/triggers/unreachable')).json?.status === 'failing', 10_000, 'the trigger failing');
    await page.reload();
    const failing = page.getByTestId('triggers').locator('tr[data-trigger=unreachable]');
    await failing.getByTestId('trigger-status').filter({ hasText: 'failing' }).waitFor();
    const error = (await api(platform.url, 'GET', '/api/v1/triggers/unreachable')).json?.error as string;
    assert.ok(error);
    assert.match(await failing.innerText(), /unreachable\s+hello\s+file\s+.*\/nonexistent\/nimbus-dashboard.*\s+failing/);
    assert.equal(await failing.locator('.trigger-error').innerText(), error);
    await shot('18b-trigger-failing');

    await row.getByRole('button', { name: 'Remove…' }).click();
    await row.getByText('Remove every-second?').waitFor();
    await shot('19-trigger-remove-confirm');
    await row.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/every-second')).status, 200);
    for (const name of ['every-second', 'nightly', 'unreachable', ...(natsListens ? ['orders'] : [])]) {
      const target = page.getByTestId('triggers').locator(`tr[data-trigger=${name}]`);
      await target.getByRole('button', { name: 'Remove…' }).click();
      await target.getByRole('button', { name: 'Remove', exact: true }).click();
      await target.waitFor({ state: 'detached' });
      assert.equal((await api(platform.url, 'GET', `/api/v1/triggers/${name}`)).status, 404);
    }
    await page.getByText('No triggers.').waitFor();
  });

  test('with known figures answered in the browser: the stats, charts and usage sections format them exactly', async () => {
    // The real routes' figures depend on the run; here the browser answers them from HISTORY_STUB
    // (the wire shapes) so every formatted number can be checked.
    const stub = historyStub(Date.now());
    await page.route(/\/api\/v1\/(stats|usage|functions\/[^/]+\/stats)(\?|$)/, (route) => {
      const path = new URL(route.request().url()).pathname;
      const body = path === '/api/v1/stats' ? stub.stats : path === '/api/v1/usage' ? stub.usage(new URL(route.request().url()).searchParams.get('by')) : stub.series;
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    });
    try {
      await page.goto(`${platform.url}/ui/#/functions`);
      const row = page.locator('[data-testid=functions] tr[data-function=hello]');
      await row.getByText('2.50').waitFor();
      assert.match(await row.innerText(), /2\.50\s+3\s+12\.3 ms\s+250 ms\s+4/);
      await shot('10-stub-functions');
      await page.goto(`${platform.url}/ui/#/functions/hello`);
      await page.getByTestId('charts').locator('.uplot canvas').first().waitFor();
      assert.equal(await page.getByTestId('charts').locator('.uplot').count(), 2);
      assert.match(await page.getByTestId('charts').innerText(), /invocations[\s\S]*errors[\s\S]*p50[\s\S]*p99/);
      await page.getByTestId('charts').scrollIntoViewIfNeeded();
      await shot('11-stub-charts');
      await page.goto(`${platform.url}/ui/#/usage`);
      const byFunction = page.getByTestId('usage-function');
      await byFunction.locator('tbody tr', { hasText: 'hello' }).waitFor();
      assert.match(await byFunction.locator('tfoot').innerText(), /Total\s+1,500\s+7\s+12\.500\s+3\.250\s+50,000\s+1\.0 MB\s+2\.0 MB\s+\$0\.2088/);
      assert.equal(await page.getByTestId('usage-day').locator('tbody tr').count(), 2);
      await shot('12-stub-usage');
    } finally {
      await page.unroute(/\/api\/v1\/(stats|usage|functions\/[^/]+\/stats)(\?|$)/);
    }
  });

  test('nothing broke the CSP, threw, or reached another origin; sign out forgets the token', async () => {
    assert.deepEqual(problems, []);
    await page.click('header button:text-is("Sign out")');
    await page.getByTestId('sign-in').waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('nimbus.token')"), null);
  });
});
