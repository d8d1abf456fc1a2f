import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
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

export type LogFormat = 'json' | 'pretty';

/** Pretty for a person at a terminal, JSON for anything reading a pipe; FLOWSCALE_LOG_FORMAT decides if set. */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  tty = process.stdout.isTTY === true,
): LogFormat {
  const chosen = env.FLOWSCALE_LOG_FORMAT?.trim().toLowerCase();
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return tty ? 'pretty' : 'json';
}

export function createLogger(level: string, format: LogFormat = logFormat()): Logger {
  // In-process (not a worker transport): a line is written before the process can exit on a start-up error.
  const destination: DestinationStream | undefined =
    format === 'pretty'
      ? pretty({
          colorize: process.stdout.isTTY === true,
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
          sync: true,
        })
      : undefined;
  const options: pino.LoggerOptions = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (req: LoggableRequest) => ({
        id: req.id,
        method: req.method,
        url: redactSignature(req.url),
        ip: req.ip,
      }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
