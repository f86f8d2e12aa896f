/**
 * A function pod's output, read from the API server (`pods/{name}/log?follow=true`) into the
 * platform's log buffer. The shim tags each line with the invocation id, so `nimbus logs` reads
 * the same entries as for a local instance.
 */
import { PassThrough } from 'node:stream';
import { type KubeConfig, Log } from '@kubernetes/client-node';
import type { LogSink } from '../../telemetry/logs.js';
import { captureOutput } from '../local/output.js';

/** Follows `pod`'s runtime container until the returned function is called or the container ends. */
export function followPodLogs(kubeConfig: KubeConfig, namespace: string, pod: string, functionName: string, sink: LogSink, onError: (err: unknown) => void): () => void {
  const stream = new PassThrough();
  captureOutput(stream, 'stdout', () => functionName, sink, () => undefined);
  let stopped = false;
  let controller: AbortController | undefined;
  new Log(kubeConfig)
    .log(namespace, pod, 'runtime', stream, (err: unknown) => {
      if (err && !stopped) onError(err);
      stream.end();
    }, { follow: true })
    .then(
      (abort) => {
        controller = abort;
        if (stopped) abort.abort();
      },
      (err: unknown) => {
        if (!stopped) onError(err);
        stream.end();
      },
    );
  return () => {
    stopped = true;
    controller?.abort();
  };
}
