export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LoggingConfig {
  enabled: boolean;
  level: LogLevel;
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Prints `[Flowscale INFO] <ISO timestamp>: <message>`. Every message goes through `redact`, so the API
 * key cannot reach a log line even when it is part of an error text or a URL.
 */
export class Logger {
  declare config: LoggingConfig;
  #secret: RegExp | undefined;

  constructor(config: LoggingConfig, secret?: string) {
    this.config = config;
    // Whole tokens only: a short key must not turn `/workflows` into `/wor[redacted]flows`. A key is never
    // part of a longer run of key characters, so those are the boundaries.
    if (secret)
      this.#secret = RegExp(`(?<![\\w-])${secret.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')}(?![\\w-])`, 'g');
  }

  log(level: LogLevel, message: string): void {
    if (!this.config.enabled || LEVELS.indexOf(level) < LEVELS.indexOf(this.config.level)) return;
    console[level](`[Flowscale ${level.toUpperCase()}] ${new Date().toISOString()}: ${this.redact(message)}`);
  }

  redact(text: string): string {
    return this.#secret ? text.replace(this.#secret, '[redacted]') : text;
  }
}
