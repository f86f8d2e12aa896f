/**
 * UUIDv7 ids: the time they were made, read from their text or their bytes alike, nothing for any
 * other id, and a floor that sorts before every id made at or after a time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { uuidV7Floor, uuidV7Time, uuidV7TimeOfBytes } from '../../src/store/time-ordered-id.js';

const T = Date.UTC(2026, 11, 5, 12, 30);

test('the time a UUIDv7 was made, from its text and from its bytes', () => {
  for (const ms of [0, 1, T, 2 ** 48 - 1]) {
    const id = uuidv7({ msecs: ms });
    assert.equal(uuidV7Time(id), ms, id);
    assert.equal(uuidV7TimeOfBytes(Buffer.from(`xx${id}`), 2), ms, id);
  }
});

test('any other id has no time', () => {
  const v7 = uuidv7({ msecs: T });
  for (const id of [uuidv4(), 'not-a-uuid', '', v7.toUpperCase(), v7.slice(0, 35), `${v7.slice(0, 19)}0${v7.slice(20)}`, `g${v7.slice(1)}`]) {
    assert.equal(uuidV7Time(id), undefined, id);
    if (id.length === 36) assert.equal(uuidV7TimeOfBytes(Buffer.from(id), 0), undefined, id);
  }
});

test('the floor of a time sorts before every id made then or later, and after every id made before', () => {
  const floor = uuidV7Floor(T);
  assert.ok(floor <= uuidv7({ msecs: T }));
  assert.ok(floor < uuidv7({ msecs: T + 1 }));
  assert.ok(floor > uuidv7({ msecs: T - 1 }));
  assert.equal(uuidV7Floor(-5), '00000000-0000', 'times before the epoch floor at zero');
});
