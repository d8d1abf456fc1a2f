/** The minimal stream shape the CLI writes to; real process streams and test buffers both fit. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface InStream {
  isTTY?: boolean;
}

/**
 * Everything the program touches in the outside world. Injected so the same program runs under a real
 * process (bin.ts) and inside unit tests.
 */
export interface CliIO {
  stdout: OutStream;
  stderr: OutStream;
  stdin?: InStream & NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Registers a Ctrl-C handler; returns the unregister function. Defaults to process SIGINT. */
  onInterrupt?: (handler: () => void) => () => void;
}

export const processInterrupts = (handler: () => void): (() => void) => {
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
};
