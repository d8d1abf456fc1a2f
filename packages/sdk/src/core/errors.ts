// A global-registry symbol, so `instanceof` also holds for errors thrown by a second copy of the SDK
// (duplicate installs, ESM + CJS in one process). Its value is the error's kind (its class name).
const KIND = Symbol.for('flowscale.error.kind');

export interface ErrorDetail {
  field: string;
  message: string;
  /** For a workflow's graph (self-hosted server): the kind of problem, and the node, class and input. */
  kind?: string;
  node_id?: string;
  class_type?: string;
  input?: string;
}

export interface FlowScaleErrorOptions {
  status?: number;
  code?: string;
  details?: unknown;
  cause?: unknown;
}

export class FlowScaleError extends Error {
  /** Stable name used by the cross-install `instanceof` check (class names do not survive minifiers). */
  static readonly kind: string = 'FlowScaleError';
  declare readonly [KIND]: string;
  /** HTTP status, when the error came from a response. */
  declare readonly status: number | undefined;
  /** Machine-readable code from the server (`code`) or the SDK (`network_error`, `timeout`, ...). */
  declare readonly code: string | undefined;
  /** Server-provided details (for validation errors: a list of `{field, message}`). */
  declare readonly details: unknown;

  constructor(message: string, options: FlowScaleErrorOptions = {}) {
    // Error installs `cause` only when the options object has one.
    super(message, options);
    this.name = (new.target as typeof FlowScaleError).kind;
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
    Object.defineProperty(this, KIND, { value: this.name });
  }

  // `this` is the class on the right of `instanceof` (a subclass inherits this static method). Every
  // subclass extends FlowScaleError directly, so another copy's error is a FlowScaleError when it has a
  // kind at all, and an instance of a subclass when the kinds match.
  static override [Symbol.hasInstance](value: unknown): boolean {
    const kind = (value as FlowScaleError | null)?.[KIND];
    // The prototype-chain check first (Function.prototype's, reached through Error), then the brand.
    // biome-ignore lint/complexity/noThisInStatic: must be the class being tested, not FlowScaleError
    return super[Symbol.hasInstance](value) || (!!kind && (this === FlowScaleError || kind === this.kind));
  }
}

/** The request never got an HTTP response (DNS, refused connection, reset, ...). */
export class NetworkError extends FlowScaleError {
  static override readonly kind: string = 'NetworkError';
}

/** A request or a whole workflow run took longer than allowed. The message always contains "timed out". */
export class TimeoutError extends FlowScaleError {
  static override readonly kind: string = 'TimeoutError';
}

/** The server rejected the input (HTTP 400 or 422); `details` lists each bad field as `{field, message}`. */
export class ValidationError extends FlowScaleError {
  static override readonly kind: string = 'ValidationError';
  declare readonly details: ErrorDetail[];
}

/** A run ended as failed, error or cancelled. `details` is the run's error (`{message, node_id?, node_type?}`). */
export class RunFailedError extends FlowScaleError {
  static override readonly kind: string = 'RunFailedError';
  declare readonly runId: string;
  constructor(message: string, runId: string, options: FlowScaleErrorOptions = {}) {
    super(message, options);
    this.runId = runId;
  }
}
