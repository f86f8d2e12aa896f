import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Scope } from '../core/scope.js';

/** `name` is the first path parameter (a function name on function routes), `params` all of them, decoded. */
export type Handler = (req: IncomingMessage, res: ServerResponse, params: { name: string; url: URL; params: string[] }) => Promise<void> | void;

/** What a route method needs from the caller: a token of at least this scope, or nothing (`open`). */
export type RouteAccess = Scope | 'open';

/** One method of a route. The scope is required, so a route cannot be added without deciding who may call it. */
export interface RouteMethod {
  scope: RouteAccess;
  handle: Handler;
}

/** A path pattern (its groups are the path parameters) and, per HTTP method, its scope and handler. */
export interface ApiRoute {
  pattern: RegExp;
  methods: Record<string, RouteMethod>;
}

/** Where a request lands in the route table. */
export type RouteMatch =
  | { kind: 'found'; method: RouteMethod; params: string[] }
  /** The path is a route's, the method is not one of its methods. */
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

/**
 * The first route whose pattern matches `path` (the path as sent, before any URL normalisation:
 * see createApi), and its handler for `method`.
 */
export function matchRoute(table: readonly ApiRoute[], method: string, path: string): RouteMatch {
  for (const route of table) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const found = route.methods[method];
    if (!found) return { kind: 'method-not-allowed', allowed: Object.keys(route.methods) };
    return { kind: 'found', method: found, params: match.slice(1).map((group) => (group === undefined ? '' : safeDecode(group))) };
  }
  return { kind: 'not-found' };
}

/**
 * The scope a request needs: its route's declared scope. A request no route serves (unknown path,
 * or a method its route does not take) still needs a token before it learns so: `read` for GET and
 * HEAD, `admin` for anything else, so probing the API without a token tells nothing about it.
 */
export function scopeOf(match: RouteMatch, method: string): RouteAccess {
  if (match.kind === 'found') return match.method.scope;
  return method === 'GET' || method === 'HEAD' ? 'read' : 'admin';
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
