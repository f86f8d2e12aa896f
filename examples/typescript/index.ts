// A TypeScript function with an npm dependency. Nimbus bundles it with esbuild at deploy time
// (types are stripped, `nanoid` is inlined), so the instance starts from plain JavaScript.
import { nanoid } from 'nanoid';

/** What this function answers: a typed shape, checked at build time by `npx tsc --noEmit`. */
interface Ticket {
  id: string;
  path: string;
  issuedAt: string;
  size: number;
}

/** Length of the ids handed out; `?size=` may ask for another between 4 and 64. */
const DEFAULT_SIZE = 12;

function parseSize(value: string | null): number {
  const size = Number(value ?? DEFAULT_SIZE);
  return Number.isInteger(size) && size >= 4 && size <= 64 ? size : DEFAULT_SIZE;
}

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    const size = parseSize(url.searchParams.get('size'));
    const ticket: Ticket = {
      id: nanoid(size),
      path: url.pathname,
      issuedAt: new Date().toISOString(),
      size,
    };
    return Response.json(ticket);
  },
};
