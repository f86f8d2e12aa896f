import ora, { type Ora } from 'ora';
import type { CliIO } from './io.js';

/** Progress messages on stderr: a spinner on a terminal, plain lines otherwise. */
export interface Progress {
  /** Shows a new step. */
  step(text: string): void;
  /** Removes the spinner (plain mode: nothing to do). */
  stop(): void;
}

export function createProgress(io: CliIO, options: { quiet?: boolean } = {}): Progress {
  if (options.quiet) return { step() {}, stop() {} };
  // A terminal that reports 0 columns (some CI ptys) would make the spinner's redraw maths loop.
  const columns = (io.stderr as { columns?: number }).columns;
  if (!io.stderrIsTTY || columns === 0) {
    return {
      step(text) {
        io.stderr.write(`${text}\n`);
      },
      stop() {},
    };
  }
  let spinner: Ora | undefined;
  return {
    step(text) {
      if (!spinner) {
        spinner = ora({ text, stream: io.stderr, isEnabled: true, discardStdin: false });
        spinner.start();
      } else {
        spinner.text = text;
      }
    },
    stop() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}
