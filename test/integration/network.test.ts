import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { probeHost } from '../../src/sandbox/probe.js';
import { hostAddresses } from '../../src/sandbox/user-net.js';
import { api, deploy, invoke, ROOT, startPlatform, type TestPlatform } from './harness.js';

/**
 * The network policies against real listeners on this machine: our own TCP servers on 127.0.0.1
 * and 0.0.0.0, the platform's API, and whatever databases run on the host's loopback. No traffic
 * leaves the machine.
 */
const FUNCTION = readFileSync(join(ROOT, 'test/integration/fixtures/network.mjs'), 'utf8');
/** Databases that usually run on the host's loopback: probed from the host first, used when they answer. */
const LOOPBACK_SERVICES = [6379, 5432, 3306, 5672, 1883, 4222];

type Json = Record<string, any>;

describe('network policies (bubblewrap and pasta)', async () => {
  const probe = await probeHost();
  const missing = probe.bwrapProblem ?? probe.userNetProblem;
  if (missing && process.env.CI) throw new Error(`bubblewrap and pasta must work under CI: ${missing}`);
  const skip = missing ? `needs bubblewrap and pasta: ${missing}` : false;

  let platform: TestPlatform;
  let loopback: net.Server;
  let anyAddress: net.Server;
  const ports = { loopback: 0, anyAddress: 0, platform: 0 };
  /** A non-loopback IPv4 address of this machine (where 0.0.0.0 listeners answer too). */
  const hostAddress = hostAddresses().find((address) => !address.includes(':'));
  const services: number[] = [];

  before(async () => {
    if (skip) return;
    loopback = await listen('127.0.0.1');
    anyAddress = await listen('0.0.0.0');
    ports.loopback = (loopback.address() as net.AddressInfo).port;
    ports.anyAddress = (anyAddress.address() as net.AddressInfo).port;
    for (const port of LOOPBACK_SERVICES) if ((await connectFromHost('127.0.0.1', port)).connected) services.push(port);
    // .ci/run starts them: under CI a missing one is a broken set-up, not a reason to try less.
    const absent = LOOPBACK_SERVICES.filter((port) => !services.includes(port));
    if (process.env.CI && absent.length > 0) throw new Error(`services must run on the host loopback under CI; nothing answers on ${absent.join(', ')}`);
    platform = await startPlatform({ sandbox: process.env.CI ? 'bubblewrap' : 'auto' });
    ports.platform = Number(new URL(platform.url).port);
    await deploy(platform.url, 'outbound', { file: 'index.js', content: FUNCTION });
    await deploy(platform.url, 'host', { file: 'index.js', content: FUNCTION }, { network: 'host' });
    await deploy(platform.url, 'none', { file: 'index.js', content: FUNCTION }, { network: 'none' });
  });

  after(async () => {
    await platform?.close();
    loopback?.close();
    anyAddress?.close();
  });

  const reach = async (fn: string, targets: string[]): Promise<Json> => {
    const query = targets.map((target) => `to=${encodeURIComponent(target)}`).join('&');
    const res = await invoke(platform.url, `${fn}/connect?${query}`);
    assert.equal(res.status, 200, res.text);
    return JSON.parse(res.text) as Json;
  };

  test('outbound (the default) reaches none of the host: loopback listeners, its databases, the platform API, its other addresses', { skip }, async () => {
    const targets = [`127.0.0.1:${ports.loopback}`, `127.0.0.1:${ports.anyAddress}`, `127.0.0.1:${ports.platform}`, `[::1]:${ports.anyAddress}`, ...services.map((port) => `127.0.0.1:${port}`)];
    if (hostAddress) targets.push(`${hostAddress}:${ports.anyAddress}`, `${hostAddress}:${ports.platform}`, ...services.map((port) => `${hostAddress}:${port}`));
    const { interfaces, results } = await reach('outbound', targets);
    for (const target of targets) assert.equal(results[target].connected, false, `${target} must be unreachable: ${JSON.stringify(results[target])}`);
    // Its own network, connected to the outside: more than loopback.
    assert.ok(interfaces.some((name: string) => name !== 'lo'), `interfaces: ${interfaces}`);
    if (services.length === 0) console.log('# no database answered on the host loopback: only our own listeners were tried');
  });

  test("outbound: every address of the host is unreachable in the instance's routes", { skip }, async () => {
    const res = await invoke(platform.url, 'outbound/routes');
    const { ipv4, ipv6 } = JSON.parse(res.text) as { ipv4: string; ipv6: string };
    for (const address of hostAddresses()) {
      if (address.includes(':')) {
        // Columns: destination, prefix length, source, its length, next hop, metric, refcount, use, flags (0x200: reject), device.
        const reject = ipv6.split('\n').map((line) => line.trim().split(/\s+/)).find((cols) => cols[0] === expandIpv6(address) && cols[1] === '80' && (parseInt(cols[8] ?? '0', 16) & 0x200) !== 0);
        assert.ok(reject, `reject route for ${address}:\n${ipv6}`);
      } else {
        assert.match(ipv4, new RegExp(`^\\S+\\t${ipv4Hex(address)}\\t00000000\\t0*2\\d\\d\\t`, 'm'), `reject route for ${address}`);
      }
    }
  });

  test('outbound: a listener the function opens is invisible to the host', { skip }, async () => {
    const res = await invoke(platform.url, 'outbound/listen');
    const { port, mark } = JSON.parse(res.text) as { port: number; mark: string };
    for (const address of ['127.0.0.1', ...(hostAddress ? [hostAddress] : [])]) {
      const answer = await connectFromHost(address, port);
      assert.ok(!answer.data.includes(mark), `the function's listener answered on ${address}:${port}`);
    }
  });

  test('host: reaches the host loopback listener and the platform API', { skip }, async () => {
    const targets = [`127.0.0.1:${ports.loopback}`, `127.0.0.1:${ports.platform}`];
    const { results } = await reach('host', targets);
    for (const target of targets) assert.equal(results[target].connected, true, `${target}: ${JSON.stringify(results[target])}`);
  });

  test('none: only loopback, nothing of the host', { skip }, async () => {
    const { interfaces, results } = await reach('none', [`127.0.0.1:${ports.loopback}`]);
    assert.deepEqual(interfaces, ['lo']);
    assert.equal(results[`127.0.0.1:${ports.loopback}`].connected, false);
  });

  test('pasta ends with the instances: nothing is left once the platform stops', { skip }, async () => {
    assert.ok(pastaChildren().length > 0, 'the warm pool holds an outbound instance with its pasta');
    await platform.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(pastaChildren(), []);
  });
});

describe('network host on a platform listening beyond loopback', () => {
  test('is refused with HOST_NETWORK_NOT_ALLOWED unless --allow-host-network', async () => {
    for (const allowHostNetwork of [false, true]) {
      const platform = await startPlatform({ host: '0.0.0.0', allowHostNetwork, warmPoolSize: 0 });
      try {
        const uploaded = await deploy(platform.url, 'probe', { file: 'index.js', content: 'export default () => new Response("ok");' }, { network: 'none', auth: 'key' }).catch(() => undefined);
        const pkg = uploaded?.package ?? 'a'.repeat(64);
        const res = await api(platform.url, 'PUT', '/api/v1/functions/local-db', { package: pkg, network: 'host', auth: 'key' });
        if (allowHostNetwork) {
          assert.ok(res.status === 200 || res.status === 201, `${res.status} ${JSON.stringify(res.json)}`);
        } else {
          assert.equal(res.status, 403);
          assert.equal(res.json!.error.code, 'HOST_NETWORK_NOT_ALLOWED');
          assert.equal(res.json!.error.details.field, 'network');
          assert.match(res.json!.error.message, /--allow-host-network/);
        }
      } finally {
        await platform.close();
      }
    }
  });
});

function listen(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    // Clients that connect only to see whether they can reset the connection: not an error here.
    const server = net.createServer((socket) => socket.on('error', () => undefined).end('host-listener'));
    server.once('error', reject).listen(0, host, () => resolve(server));
  });
}

/** Connects from the host (this test process); answers whether it connected and what it read. */
function connectFromHost(host: string, port: number): Promise<{ connected: boolean; data: string }> {
  return new Promise((resolve) => {
    let data = '';
    let connected = false;
    const socket = net.connect({ host, port });
    const done = () => {
      socket.destroy();
      resolve({ connected, data });
    };
    socket.setTimeout(1000, done);
    socket.on('connect', () => (connected = true));
    socket.on('data', (chunk) => (data += chunk.toString()));
    // 'on': a reset may follow the end (databases close on garbage); resolve is idempotent.
    socket.on('end', done).on('error', done);
  });
}

/**
 * pasta processes started by the platform this test process runs (below their supervising
 * script); pasta re-executes itself as passt.avx2 where it can.
 */
function pastaChildren(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = /^\d+ \((.*)\) /s.exec(stat)?.[1];
      if (/^(pasta|passt)/.test(comm ?? '') && parentOf(parentOf(Number(entry))) === process.pid) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** An IPv4 address as /proc/net/route writes it (hex, host byte order on little-endian machines). */
function ipv4Hex(address: string): string {
  return address.split('.').reverse().map((part) => Number(part).toString(16).padStart(2, '0').toUpperCase()).join('');
}

/** An IPv6 address as /proc/net/ipv6_route writes it (32 hex digits). */
function expandIpv6(address: string): string {
  const [head = '', tail = ''] = address.split('::');
  const parts = (s: string) => (s ? s.split(':') : []);
  const groups = [...parts(head), ...Array(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
  return groups.map((group) => group.padStart(4, '0')).join('').toLowerCase();
}
