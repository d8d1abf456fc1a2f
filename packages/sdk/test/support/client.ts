import { afterEach, vi } from 'vitest';
import { FlowscaleAdminAPI } from '../../src/admin/index';
import { timing } from '../../src/core/timing';
import type { FlowscaleConfig } from '../../src/index';
import { type ContractServer, type ContractServerOptions, startContractServer } from './contract-server';

/**
 * A client for the contract server, quiet and with fast retries unless a test says otherwise. The admin
 * subclass, so admin tests can use it too; it inherits every method of FlowscaleAPI unchanged.
 */
export function clientFor(server: ContractServer, config: FlowscaleConfig = {}) {
  return new FlowscaleAdminAPI({
    apiKey: server.apiKey,
    baseUrl: server.url,
    enableLogging: false,
    retryDelay: 5,
    ...config,
  });
}

/**
 * Records every delay the SDK schedules (retry backoff, poll interval, reconnects) and runs it after at
 * most `capMs`, so tests check the timing decisions without sleeping through them (like ky's tests).
 */
export function recordDelays(capMs = 1) {
  const delays: number[] = [];
  const real = timing.delay;
  const spy = vi.spyOn(timing, 'delay').mockImplementation((ms, signal) => {
    delays.push(ms);
    return real(Math.min(ms, capMs), signal);
  });
  return { delays, restore: () => spy.mockRestore() };
}

/** Captures console output of the SDK's logger. */
export function captureConsole() {
  const lines: string[] = [];
  const spies = (['debug', 'info', 'warn', 'error', 'log'] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    }),
  );
  return {
    lines,
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/**
 * Returns `serve(options)`, which starts a contract server for the current test; each one is closed after
 * its test. Call it once at the top level of a test file.
 */
export function contractServerPerTest() {
  let server: ContractServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  return async (options: ContractServerOptions = {}) => {
    server = await startContractServer(options);
    return server;
  };
}
