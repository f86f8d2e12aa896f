import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deploy, startPlatform } from './harness.js';
import { END_OF_BODY, HOLD_UNTIL_BODY_ENDS, heldInvocation, RawConnection } from './raw-connection.js';

test('close lets in-flight invocations finish; meanwhile new requests and /healthz get 503 SHUTTING_DOWN', async () => {
  const platform = await startPlatform();
  const connections: RawConnection[] = [];
  const held = async () => {
    const connection = new RawConnection(platform.url);
    connections.push(connection);
    connection.write(heldInvocation('hold'));
    await connection.waitFor(/started;/);
    return connection;
  };
  try {
    await deploy(platform.url, 'hold', HOLD_UNTIL_BODY_ENDS, { concurrency: 2 });
    const first = await held();
    const second = await held();

    const closed = platform.server.close();
    // Both clients are mid-request, so both connections stay open while the platform drains.
    // The second finishes its request and sends two more on the same connection.
    second.write(`${END_OF_BODY}GET /fn/hold HTTP/1.1\r\nHost: nimbus.test\r\n\r\nGET /healthz HTTP/1.1\r\nHost: nimbus.test\r\nConnection: close\r\n\r\n`);
    const answers = await second.closed;
    assert.match(answers, /^HTTP\/1\.1 200 .*finished after 3 bytes/s);
    assert.equal(answers.match(/HTTP\/1\.1 503 /g)?.length, 2, answers);
    assert.equal(answers.match(/^x-nimbus-error: SHUTTING_DOWN\r$/gim)?.length, 2, answers);

    // The other invocation was not cut either: it ends when its client finishes sending.
    assert.doesNotMatch(first.text(), /finished/);
    first.write(END_OF_BODY);
    await first.waitFor(/finished after 3 bytes\r\n0\r\n\r\n$/);
    assert.match(first.text(), /^HTTP\/1\.1 200 /);
    await closed;
  } finally {
    for (const connection of connections) connection.destroy();
    await platform.close();
  }
});
