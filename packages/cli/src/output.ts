import pc from 'picocolors';
import type { OutStream } from './io';

type Colors = ReturnType<typeof pc.createColors>;

/** Colours only for a human at a terminal; NO_COLOR (https://no-color.org) always wins. */
export function colorEnabled(stream: OutStream, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/**
 * All printing goes through here so that `--json` mode is guaranteed to put exactly one JSON document
 * on stdout and nothing else.
 */
export class Output {
  readonly color: Colors;
  readonly errColor: Colors;

  constructor(
    readonly stdout: OutStream,
    readonly stderr: OutStream,
    readonly json: boolean,
    env: Record<string, string | undefined>,
  ) {
    this.color = pc.createColors(!json && colorEnabled(stdout, env));
    this.errColor = pc.createColors(colorEnabled(stderr, env));
  }

  /** Human text for stdout; suppressed in --json mode. */
  line(text = ''): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** Status/progress chatter for humans; goes to stderr so stdout stays pipeable. */
  info(text: string): void {
    if (!this.json) this.stderr.write(`${text}\n`);
  }

  /** The machine-readable result of a command; printed only in --json mode. */
  data(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Prints `value` as JSON in --json mode, otherwise runs the human renderer. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.data(value);
    else human();
  }

  error(message: string, exitCode: number): void {
    if (this.json) {
      this.stderr.write(`${JSON.stringify({ error: message, exit_code: exitCode })}\n`);
    } else {
      this.stderr.write(`${this.errColor.red('error:')} ${message}\n`);
    }
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    const cells = rows.map((row) => columns.map((c) => c.value(row)));
    const widths = columns.map((c, i) =>
      Math.max(c.header.length, ...cells.map((r) => visibleLength(r[i]!))),
    );
    const pad = (s: string, i: number) => s + ' '.repeat(Math.max(0, widths[i]! - visibleLength(s)));
    this.line(
      this.color.bold(
        columns
          .map((c, i) => pad(c.header, i))
          .join('  ')
          .trimEnd(),
      ),
    );
    for (const row of cells) this.line(row.map(pad).join('  ').trimEnd());
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes is the point.
const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string): number => s.replace(ANSI, '').length;

/*
 * Dates, sizes and durations are shown one way everywhere, so output can be compared and grepped:
 * times in UTC as `2026-12-07 03:40:02 UTC`, sizes in binary units (`1.5 MiB`), durations in seconds.
 */

export const formatTime = (iso: string | null | undefined): string => {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
};

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export const formatBytes = (n: number | undefined): string => {
  if (n === undefined || !Number.isFinite(n)) return '?';
  let unit = 0;
  let value = n;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
};

export const formatDuration = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
