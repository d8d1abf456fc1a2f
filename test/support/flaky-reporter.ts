import { appendFileSync } from 'node:fs';
import type { Reporter, TestCase } from 'vitest/node';

/**
 * The suite retries a failed test once (vitest.config.ts), so one unlucky scheduling on a loaded 2-core
 * machine does not sink a run. A retry must not hide flakiness, though: every test that passed only on a
 * retry is listed at the end of the run with its first failure, and appended to the file named by
 * FLOWSCALE_FLAKY_LOG when that is set, so each one can be found and fixed.
 */
export default class FlakyReporter implements Reporter {
  readonly #flaky: string[] = [];

  onTestCaseResult(testCase: TestCase): void {
    const diagnostic = testCase.diagnostic();
    if (!diagnostic?.flaky) return;
    const firstError = testCase.result().errors?.[0]?.message?.split('\n')[0] ?? 'no message kept';
    this.#flaky.push(
      `${testCase.project.name} ${testCase.module.relativeModuleId} > ${testCase.fullName}` +
        ` (${diagnostic.retryCount} retr${diagnostic.retryCount === 1 ? 'y' : 'ies'}): ${firstError}`,
    );
  }

  onTestRunEnd(): void {
    if (this.#flaky.length === 0) return;
    const lines = [
      `Flaky: ${this.#flaky.length} test(s) passed only on a retry:`,
      ...this.#flaky.map((l) => `  ${l}`),
    ];
    process.stderr.write(`\n${lines.join('\n')}\n`);
    const log = process.env.FLOWSCALE_FLAKY_LOG;
    if (log) appendFileSync(log, `${new Date().toISOString()}\n${lines.join('\n')}\n`);
  }
}
