import type { RunError, RunEvent } from 'flowscale';
import { isTerminalEvent } from 'flowscale/events';
import type { OutStream } from './io';
import { formatBytes } from './output';

export function renderBar(percent: number, width = 24): string {
  const p = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  const filled = Math.round((p / 100) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

// A node-executing event, or a run's error (which may not name a node).
const nodeLabel = (e: { node_id?: string; node_type?: string | null }): string =>
  e.node_type ? `node ${e.node_id} (${e.node_type})` : `node ${e.node_id}`;

/** One plain line per meaningful event, for logs and pipes; per-step progress is too chatty there. */
export function describeEvent(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run.queued':
      // The server counts the unfinished runs ahead of this one, so 0 means next in line.
      return e.queue_position ? `queued (${e.queue_position} ahead)` : 'queued';
    case 'run.started':
      return e.backend ? `started on ${e.backend}` : 'started';
    case 'node.executing':
      return `running ${nodeLabel(e)}`;
    case 'output.ready': {
      const o = e.output;
      return `output ready: ${o.filename} (${o.content_type ?? 'unknown type'}, ${formatBytes(o.size)})`;
    }
    case 'run.completed':
      return 'completed';
    case 'run.failed':
      return `failed: ${failureMessage(e.error)}`;
    case 'run.cancelled':
      return 'cancelled';
    default:
      return undefined;
  }
}

/** "node 3 (ImageBlur) failed: boom", or just the message when the server could not pin a node. */
export function failureMessage(error: RunError | null | undefined): string {
  const msg = error?.message?.split('\n')[0] ?? 'unknown error';
  return error?.node_id ? `${nodeLabel(error)} failed: ${msg}` : msg;
}

export interface ProgressView {
  update(e: RunEvent): void;
  /** Clears the live line and stops redrawing it, so a prompt or message can be printed cleanly. */
  pause(): void;
  resume(): void;
  stop(): void;
}

const BAR_WIDTH = 24;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A single redrawn status line with a spinner and a bar; only used on a TTY. */
class LiveLine implements ProgressView {
  #frame = 0;
  #status = 'submitted';
  #percent = 0;
  #node = '';
  #step = '';
  #timer: NodeJS.Timeout;
  #paused = false;

  constructor(
    private readonly stream: OutStream,
    private readonly paint: { cyan(s: string): string; dim(s: string): string; green(s: string): string },
  ) {
    this.#timer = setInterval(() => this.#draw(), 100);
    this.#timer.unref();
    this.#draw();
  }

  update(e: RunEvent): void {
    if (typeof e.progress === 'number') this.#percent = e.progress;
    if (e.type === 'node.executing') {
      this.#node = nodeLabel(e);
      this.#step = '';
    }
    if (e.type === 'node.progress' && e.max) this.#step = `${e.value}/${e.max}`;
    if (e.type === 'run.queued') this.#status = describeEvent(e)!;
    if (e.type === 'run.started') this.#status = 'running';
    if (e.type === 'output.ready' && !this.#paused) {
      this.stream.write('\r\x1b[K');
      this.stream.write(`${this.paint.green('✓')} ${describeEvent(e)}\n`);
    }
    this.#draw();
  }

  #draw(): void {
    if (this.#paused) return;
    const spin = this.paint.cyan(SPINNER[this.#frame++ % SPINNER.length]!);
    const pct = `${Math.round(this.#percent)}%`.padStart(4);
    let detail = [this.#node, this.#step].filter(Boolean).join(' ');
    const fixed = 2 + this.#status.length + 1 + BAR_WIDTH + 1 + pct.length;
    // A line wider than the terminal wraps, and then \r can no longer redraw it in place.
    const room = (this.stream.columns || 80) - 1 - fixed - 1;
    if (detail.length > room) detail = room > 1 ? `${detail.slice(0, room - 1)}…` : '';
    const tail = detail ? ` ${this.paint.dim(detail)}` : '';
    this.stream.write(`\r\x1b[K${spin} ${this.#status} ${renderBar(this.#percent, BAR_WIDTH)} ${pct}${tail}`);
  }

  pause(): void {
    this.#paused = true;
    this.stream.write('\r\x1b[K');
  }

  resume(): void {
    this.#paused = false;
    this.#draw();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.pause();
  }
}

class PlainLines implements ProgressView {
  #last = '';
  constructor(private readonly stream: OutStream) {}
  update(e: RunEvent): void {
    const line = describeEvent(e);
    // Terminal events are reported by the run command itself, with the outcome.
    if (!line || isTerminalEvent(e) || line === this.#last) return;
    this.#last = line;
    this.stream.write(`${line}\n`);
  }
  pause(): void {}
  resume(): void {}
  stop(): void {}
}

class Silent implements ProgressView {
  update(): void {}
  pause(): void {}
  resume(): void {}
  stop(): void {}
}

export function createProgressView(
  stream: OutStream,
  opts: {
    json: boolean;
    paint: { cyan(s: string): string; dim(s: string): string; green(s: string): string };
  },
): ProgressView {
  if (opts.json) return new Silent();
  return stream.isTTY ? new LiveLine(stream, opts.paint) : new PlainLines(stream);
}

/**
 * `onUploadProgress` for a terminal: a redrawn "uploading" line with a bar, at most ten redraws a second
 * plus the last one, cleared when done. Undefined off a terminal or under --json, where it would be noise.
 */
export function uploadBar(
  stream: OutStream,
  json: boolean,
): {
  onUploadProgress?: (p: { loaded: number; total: number | undefined }) => void;
  done(): void;
} {
  if (json || !stream.isTTY) return { done() {} };
  let last = 0;
  let drawn = false;
  return {
    onUploadProgress({ loaded, total }) {
      const now = Date.now();
      if (now - last < 100 && loaded !== total) return;
      last = now;
      drawn = true;
      const percent = total ? (loaded / total) * 100 : 0;
      const size = total ? `${formatBytes(loaded)} / ${formatBytes(total)}` : formatBytes(loaded);
      stream.write(
        `\r\x1b[Kuploading ${renderBar(percent)} ${`${Math.round(percent)}%`.padStart(4)} ${size}`,
      );
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
