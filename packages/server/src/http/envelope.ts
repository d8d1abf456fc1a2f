import type { FieldProblem } from '../errors';

export interface SuccessEnvelope<T> {
  status: 'success';
  data: T;
  meta?: Record<string, unknown>;
}

export const ok = <T>(data: T, meta?: Record<string, unknown>): SuccessEnvelope<T> =>
  meta ? { status: 'success', data, meta } : { status: 'success', data };

export interface ErrorEnvelope {
  status: 'error';
  errors: string;
  code: string;
  details?: FieldProblem[];
}
