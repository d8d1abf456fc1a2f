import type { FlowScaleError } from 'flowscale';

let ErrorClass: typeof FlowScaleError | undefined;

/** Set by `loadSdk`: the CLI's start-up (`--help` included) does not load the SDK. */
export const registerErrorClass = (errorClass: typeof FlowScaleError): void => {
  ErrorClass = errorClass;
};

/** The HTTP status of an SDK error that came from a response (never a lookalike's `status`). */
export function httpStatus(err: unknown): number | undefined {
  return ErrorClass && err instanceof ErrorClass ? err.status : undefined;
}
