/** Small output helpers for people: colours, aligned tables, sizes and relative times. */

export interface Colors {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

function sgr(open: number, close: number, enabled: boolean): (s: string) => string {
  return enabled ? (s) => `\u001b[${open}m${s}\u001b[${close}m` : (s) => s;
}

/** ANSI colours, or identity functions when `enabled` is false. */
export function colors(enabled: boolean): Colors {
  return {
    enabled,
    bold: sgr(1, 22, enabled),
    dim: sgr(2, 22, enabled),
    red: sgr(31, 39, enabled),
    green: sgr(32, 39, enabled),
    yellow: sgr(33, 39, enabled),
    cyan: sgr(36, 39, enabled),
  };
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** The length of `s` as shown on a terminal (ANSI colour codes do not count). */
export function visibleLength(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

export interface TableOptions {
  /** Per column; default left. */
  align?: ('left' | 'right')[];
  /** Spaces between columns. @default 2 */
  gap?: number;
  /** Styles the header row (e.g. bold). */
  header?: (s: string) => string;
}

/**
 * Formats rows as an aligned table with a header row. Cells may contain colour codes; widths
 * are computed on what is visible. Lines have no trailing spaces. Returns the text with a
 * final newline.
 */
export function formatTable(headers: string[], rows: string[][], options: TableOptions = {}): string {
  const gap = ' '.repeat(options.gap ?? 2);
  const all = [headers, ...rows];
  const columns = Math.max(...all.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) widths.push(Math.max(0, ...all.map((r) => visibleLength(r[c] ?? ''))));
  const line = (cells: string[], style?: (s: string) => string): string => {
    const out: string[] = [];
    for (let c = 0; c < columns; c++) {
      const cell = cells[c] ?? '';
      const pad = ' '.repeat((widths[c] ?? 0) - visibleLength(cell));
      const last = c === columns - 1;
      const styled = style ? style(cell) : cell;
      if (options.align?.[c] === 'right') out.push(pad + styled);
      else out.push(last ? styled : styled + pad);
    }
    return out.join(gap).trimEnd();
  };
  return [line(headers, options.header), ...rows.map((r) => line(r))].join('\n') + '\n';
}

/** Formats `key: value` pairs with the values aligned; an empty key continues the previous one. */
export function formatKeyValues(pairs: [string, string][], style?: (s: string) => string): string {
  const width = Math.max(0, ...pairs.map(([k]) => visibleLength(k) + 1));
  return (
    pairs
      .map(([k, v]) => {
        const key = (k === '' ? '' : `${k}:`).padEnd(width);
        return `${style ? style(key) : key}  ${v}`.trimEnd();
      })
      .join('\n') + '\n'
  );
}

/** `1.2 MB`, `512 B`, `3.4 KB` (binary units, as people read them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} B`;
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : +value.toFixed(1)} ${units[unit]}`;
}

/**
 * How long ago `time` was, for people: `just now`, `42s ago`, `3m ago`, `5h ago`, `2d ago`;
 * older than 30 days, the date. Unknown times give `-`.
 */
export function formatAgo(time: string | number | Date | undefined | null, now: number = Date.now()): string {
  if (time === undefined || time === null) return '-';
  const at = new Date(time).getTime();
  if (Number.isNaN(at)) return '-';
  const seconds = Math.floor((now - at) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ago`;
  const days = Math.floor(hours / 24);
  if (days <= 30) return `${days}d ago`;
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * How long until `time`, for people: `in 3s`, `in 4m`, `in 2h`, `in 3d`; `now` when it is due (or
 * past). Unknown times give `-`.
 */
export function formatUntil(time: string | number | Date | undefined | null, now: number = Date.now()): string {
  if (time === undefined || time === null) return '-';
  const at = new Date(time).getTime();
  if (Number.isNaN(at)) return '-';
  const seconds = Math.ceil((at - now) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 60) return `in ${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `in ${hours}h`;
  return `in ${Math.floor(hours / 24)}d`;
}

/** `HH:MM:SS.mmm` in local time. */
export function formatClock(time: string | number | Date): string {
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return '??:??:??.???';
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Stable JSON for `--json` output: two-space indent and a final newline. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** A table printed without its header row, each line indented by two spaces (for status blocks). */
export function indentTable(table: string): string {
  return table
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => `  ${line}\n`)
    .join('');
}
