import type { Socket } from 'node:net';
import type { CallerConnection } from '../core/invocation.js';

/** The invocations in progress on a client connection (usually one, a few when pipelined). */
const WATCHER = Symbol('nimbus.clientWatcher');

type WatchedSocket = Socket & { [WATCHER]?: SocketWatcher };

/**
 * One 'close' listener per connection serves every request on it: a listener per response costs
 * far more than this bookkeeping, on every request of a keep-alive client.
 */
class SocketWatcher implements CallerConnection {
  private readonly watchers = new Set<() => void>();

  constructor(private readonly socket: Socket) {
    socket.once('close', () => {
      for (const gone of this.watchers) gone();
      this.watchers.clear();
    });
  }

  onGone(gone: () => void): void {
    if (this.socket.destroyed) return gone();
    this.watchers.add(gone);
  }

  offGone(gone: () => void): void {
    this.watchers.delete(gone);
  }
}

/** The caller connection of a client socket: made once per connection, shared by its requests. */
export function callerConnection(socket: Socket): CallerConnection {
  const watched = socket as WatchedSocket;
  return (watched[WATCHER] ??= new SocketWatcher(socket));
}
