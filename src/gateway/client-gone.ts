import type { Socket } from 'node:net';

/** The invocations in progress on each client connection: usually one, a few when pipelined. */
const watchers = new WeakMap<Socket, Set<() => void>>();

/**
 * Calls `onGone` when the client's connection closes, until {@link unwatchClient}; at once when it
 * is closed already. One 'close' listener per connection serves every request on it: a listener
 * per response costs far more than this bookkeeping, on every request of a keep-alive client.
 */
export function watchClient(socket: Socket, onGone: () => void): void {
  if (socket.destroyed) return onGone();
  let active = watchers.get(socket);
  if (active === undefined) {
    const set = new Set<() => void>();
    active = set;
    watchers.set(socket, set);
    socket.once('close', () => {
      watchers.delete(socket);
      for (const gone of set) gone();
      set.clear();
    });
  }
  active.add(onGone);
}

/** Stops watching for `onGone` (the invocation is over). */
export function unwatchClient(socket: Socket, onGone: () => void): void {
  watchers.get(socket)?.delete(onGone);
}
