/**
 * Output helpers shared by the commands: colours (only on a terminal, never with `--no-color` or `NO_COLOR`),
 * tables, status labels and times in the local time zone.
 */
import type { Status } from './exitCodes.js';

/** ANSI styles; identity functions when colours are off. */
export interface Styler {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

/** A styler that colours when `enabled`. */
export function createStyler(enabled: boolean): Styler {
  const id = (s: string): string => s;
  return enabled
    ? { enabled, bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) }
    : { enabled, bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };
}

/**
 * Whether to colour what goes to a stream: only a terminal, and never with `--no-color`, a non-empty `NO_COLOR`
 * (https://no-color.org) or `TERM=dumb`.
 */
export function wantsColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Visible width of a string (ANSI sequences do not count). */
export function visibleWidth(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - visibleWidth(s)));
}

/**
 * A plain-text table: a header row, then the rows, columns padded to their widest cell, two spaces apart.
 * The last column is not padded (no trailing blanks).
 */
export function renderTable(header: string[], rows: string[][], style: Styler, indent = ''): string {
  const widths = header.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [style.bold(line(header)), ...rows.map(line)].join('\n') + '\n';
}

/** `OK` / `WARN` / `FAIL`, coloured. */
export function statusLabel(status: Status, style: Styler): string {
  return status === 'ok' ? style.green('OK') : status === 'warn' ? style.yellow('WARN') : style.red('FAIL');
}

/** A time in the local time zone, to the second, with its offset: `2026-11-22 08:45:03 +01:00`. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ` +
    `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
  );
}

/** A duration in words: `45 s`, `12 min`, `600 min (10 h)`. */
function amount(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  return min >= 120 ? `${min} min (${Math.round(min / 6) / 10} h)` : `${min} min`;
}

/** `expires in 12 min` / `expired 3 minutes ago`, relative to `now`. */
export function expiryPhrase(expiresAt: number, now: number): string {
  const d = expiresAt - now;
  if (d > 0) return `expires in ${amount(d)}`;
  const s = Math.round(-d / 1000);
  if (s < 60) return `expired ${s} seconds ago`;
  const min = Math.round(s / 60);
  return `expired ${min} minute${min === 1 ? '' : 's'} ago`;
}

/** `in 12 min` / `12 min ago`. */
export function relative(at: number, now: number): string {
  const d = at - now;
  return d >= 0 ? `in ${amount(d)}` : `${amount(d)} ago`;
}

/** `1.2 MB`-style size. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** JSON on stdout, pretty, one document. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
