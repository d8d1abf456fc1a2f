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
  #secret: string | undefined;

  constructor(config: LoggingConfig, secret?: string) {
    this.config = config;
    this.#secret = secret;
  }

  log(level: LogLevel, message: string): void {
    if (!this.config.enabled || LEVELS.indexOf(level) < LEVELS.indexOf(this.config.level)) return;
    console[level](`[Flowscale ${level.toUpperCase()}] ${new Date().toISOString()}: ${this.redact(message)}`);
  }

  redact(text: string): string {
    return this.#secret ? text.split(this.#secret).join('[redacted]') : text;
  }
}
