import type { CompiledServerOptions } from '../config/server-options.js';
import { DISABLED_TRACING, type Tracing } from './tracing.js';

/**
 * The platform's tracing: {@link DISABLED_TRACING} without an OTLP endpoint (the SDK is not even
 * loaded), else OpenTelemetry exporting to it.
 */
export async function createTracing(options: Pick<CompiledServerOptions, 'tracesEndpoint' | 'serviceName' | 'clock'>): Promise<Tracing> {
  if (options.tracesEndpoint === undefined) return DISABLED_TRACING;
  const { OtelTracing } = await import('./otel-tracing.js');
  return new OtelTracing({ endpoint: options.tracesEndpoint, serviceName: options.serviceName, clock: options.clock });
}
