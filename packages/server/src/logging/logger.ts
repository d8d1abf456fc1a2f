import pino, { type Logger } from 'pino';
import { redactSignature } from '../outputs/signed-urls';

/** Paths that may carry a key; pino replaces them before anything is written. */
export const REDACT_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers["x-api-key"]',
  'apiKey',
  'key',
];

interface LoggableRequest {
  method: string;
  url: string;
  id?: string;
  ip?: string;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (req: LoggableRequest) => ({
        id: req.id,
        method: req.method,
        url: redactSignature(req.url),
        ip: req.ip,
      }),
    },
  });
}
