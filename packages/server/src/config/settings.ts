import { StartupError } from './startup-error';

/**
 * Reading one setting: where it came from (flag or variable) and the parse that checks it. Every failure
 * is a StartupError of one line naming the setting, the value and the reason.
 */
export interface Setting {
  /** The environment variable, e.g. `FLOWSCALE_PORT`. */
  env: string;
  /** The command-line flag, if there is one, e.g. `--port`. */
  flag?: string;
}

export const settingName = (setting: Setting): string =>
  setting.flag ? `${setting.env} (${setting.flag})` : setting.env;

export const invalidSetting = (setting: Setting, value: unknown, reason: string): StartupError =>
  new StartupError(`${settingName(setting)}=${JSON.stringify(value)}: ${reason}`);

/** A number from an option or a variable; a blank variable counts as unset. */
export function readNumber(setting: Setting, option: number | undefined, raw: string | undefined) {
  if (option !== undefined) return checkNumber(setting, option);
  if (raw === undefined || raw.trim() === '') return undefined;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed)) throw invalidSetting(setting, raw, 'not a number');
  return parsed;
}

const checkNumber = (setting: Setting, value: number): number => {
  if (!Number.isFinite(value)) throw invalidSetting(setting, value, 'not a number');
  return value;
};

export function nonNegativeInteger(setting: Setting, what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw invalidSetting(setting, value, `${what} must be a whole number, 0 or more`);
  return value;
}

export function positiveInteger(setting: Setting, what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw invalidSetting(setting, value, `${what} must be a whole number, 1 or more`);
  return value;
}

export function nonNegativeNumber(setting: Setting, what: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw invalidSetting(setting, value, `${what} must be 0 or more`);
  return value;
}

export function port(setting: Setting, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw invalidSetting(setting, value, 'not a port number (0–65535)');
  return value;
}

/** An absolute http(s) URL with a host; the trailing slashes go. */
export function httpUrl(setting: Setting, value: string, example: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidSetting(setting, value, `not a URL (expected e.g. ${example})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidSetting(setting, value, `must be an http:// or https:// URL, not ${url.protocol}`);
  if (!url.hostname) throw invalidSetting(setting, value, 'the URL has no host');
  return value.replace(/\/+$/, '');
}
