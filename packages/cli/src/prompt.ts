import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError, ExitCode } from './exit-codes';
import type { CliIO } from './io';

/**
 * Asks questions on stderr and reads the answers from stdin, one line each. On a terminal a secret answer
 * is not echoed. Off a terminal (a pipe) the lines are read as they come, which is what scripts and tests
 * use. One interface for the whole command, so lines buffered from a pipe are not lost between questions.
 */
export class Prompter {
  #rl: Interface | undefined;
  #muted = false;
  readonly #lines: string[] = [];
  #waiting: ((line: string | undefined) => void) | undefined;
  #closed = false;

  constructor(private readonly io: CliIO) {}

  get interactive(): boolean {
    return this.io.stdin?.isTTY === true;
  }

  #open(): Interface {
    if (this.#rl) return this.#rl;
    const { stdin, stderr } = this.io;
    if (!stdin) throw new CliError('no input to read an answer from', ExitCode.usage);
    // Echo goes to stderr (stdout stays for results), silenced while a secret is typed.
    const output = new Writable({
      write: (chunk, _enc, done) => {
        if (!this.#muted) stderr.write(String(chunk));
        done();
      },
    });
    const rl = createInterface({ input: stdin, output, terminal: this.interactive });
    rl.on('line', (line) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting(line);
      else this.#lines.push(line);
    });
    rl.on('close', () => {
      this.#closed = true;
      this.#waiting?.(undefined);
    });
    this.#rl = rl;
    return rl;
  }

  /** The answer, trimmed; undefined when the input ended first. */
  async ask(question: string, opts: { secret?: boolean } = {}): Promise<string | undefined> {
    this.#open();
    this.io.stderr.write(question);
    this.#muted = opts.secret === true && this.interactive;
    const line =
      this.#lines.shift() ??
      (this.#closed ? undefined : await new Promise<string | undefined>((r) => (this.#waiting = r)));
    if (this.#muted) this.io.stderr.write('\n');
    this.#muted = false;
    return line?.trim();
  }

  close(): void {
    this.#rl?.close();
  }
}

/**
 * Asks "<question> [y/N]" unless `yes`. Without a terminal there is nobody to ask, so it refuses rather
 * than guessing: scripts pass --yes.
 */
export async function confirm(io: CliIO, question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (io.stdin?.isTTY !== true) {
    throw new CliError(`${question}: refusing without a terminal to confirm on; pass --yes`, ExitCode.usage);
  }
  const prompter = new Prompter(io);
  try {
    const answer = await prompter.ask(`${question}? [y/N] `);
    if (!/^y(es)?$/i.test(answer ?? '')) throw new CliError('aborted; nothing was changed', ExitCode.generic);
  } finally {
    prompter.close();
  }
}
