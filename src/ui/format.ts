/** How figures read on the pages: a dash for what is unknown, units always shown. */
export const DASH = '–';

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : value.toLocaleString('en-US');
}

export function rate(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  return value >= 10 ? value.toFixed(0) : value >= 0.1 ? value.toFixed(2) : value === 0 ? '0' : value.toFixed(3);
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  return value >= 3600 ? `${(value / 3600).toFixed(1)} h` : value >= 60 ? `${(value / 60).toFixed(1)} min` : `${value} s`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${n.toFixed(1)} ${units[unit] ?? ''}`;
}

export function decimal(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? DASH : value.toFixed(digits);
}

export function money(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : `$${value.toFixed(value < 1 ? 4 : 2)}`;
}

/** A unit price, however small (`$0.0000166667`). */
export function price(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : `$${Number(value.toPrecision(6))}`;
}

/** A timestamp in the viewer's time zone, to the second. */
export function time(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** Milliseconds between two ISO times, when both are known. */
export function between(start: string | null | undefined, end: string | null | undefined): number | undefined {
  if (!start || !end) return undefined;
  const d = Date.parse(end) - Date.parse(start);
  return Number.isNaN(d) ? undefined : d;
}

/** Parses a `Server-Timing` header into phase durations (`queue;dur=0.4, start;dur=3.6`). */
export function serverTiming(header: string | null): Record<string, number> {
  const phases: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().split(';');
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
    if (name && dur) phases[name] = Number(dur.slice(4));
  }
  return phases;
}
