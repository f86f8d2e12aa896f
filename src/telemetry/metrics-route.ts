import type { IncomingMessage, ServerResponse } from 'node:http';
import { NimbusError } from '../core/errors.js';
import { sendError } from '../http/respond.js';

/** What `GET /metrics` serves. */
export interface MetricsRouteOptions {
  metrics: { text(): Promise<string>; contentType: string };
  /** Checks the caller (an API token of scope `read`); absent: open to anyone (`--metrics-public`). */
  authorize?: (req: IncomingMessage) => Promise<void>;
  onInternalError(err: unknown): void;
}

/**
 * The `/metrics` handler: the caller is checked first (so probing without a token learns
 * nothing), then GET or HEAD answers the Prometheus text format, never cached; other methods
 * get 405 METHOD_NOT_ALLOWED. Platform errors are catalogue errors like everywhere else.
 */
export function metricsRoute(options: MetricsRouteOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { metrics, authorize, onInternalError } = options;
  return async (req, res) => {
    try {
      await authorize?.(req);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new NimbusError('METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on /metrics: use GET.`, { headers: { allow: 'GET, HEAD' } });
      }
      const body = Buffer.from(await metrics.text());
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': body.length, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      sendError(res, err, onInternalError);
    }
  };
}
