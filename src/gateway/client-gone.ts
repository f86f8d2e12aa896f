import type { Socket } from 'node:net';

/** The invocations in progress on a client connection (usually one, a few when pipelined). */
const WATCHERS = Symbol('nimbus.clientWatchers');

type WatchedSocket = Socket & { [WATCHERS]?: Set<() => void> };

/**
 * Calls `onGone` when the client's connection closes, until {@link unwatchClient}; at once when it
 * is closed already. One 'close' listener per connection serves every request on it: a listener
 * per response costs far more than this bookkeeping, on every request of a keep-alive client.
 */
export function watchClient(socket: Socket, onGone: () => void): void {
  if (socket.destroyed) return onGone();
  const watched = socket as WatchedSocket;
  let active = watched[WATCHERS];
  if (active === undefined) {
    const set = new Set<() => void>();
    active = set;
    watched[WATCHERS] = set;
    socket.once('close', () => {
      for (const gone of set) gone();
      set.clear();
    });
  }
  active.add(onGone);
}

/** Stops watching for `onGone` (the invocation is over). */
export function unwatchClient(socket: Socket, onGone: () => void): void {
  (socket as WatchedSocket)[WATCHERS]?.delete(onGone);
}
