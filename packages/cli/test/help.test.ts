import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../src/io';
import { createProgram, runCli } from '../src/program';

async function helpOf(path: string[]): Promise<string> {
  let stdout = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: () => true },
    env: {},
    cwd: '/',
  };
  expect(await runCli([...path, '--help'], io)).toBe(0);
  return stdout;
}

/** Every command path, from the program itself. */
function paths(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [{ path, cmd: sub }, ...paths(sub, path)];
  });
}

const io: CliIO = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '/' };
const commands = paths(createProgram(io));

describe('every command’s --help', () => {
  it.each(commands.map((c) => [c.path.join(' '), c] as const))('%s', async (_name, { path, cmd }) => {
    const help = await helpOf(path);
    expect(help).toContain(`Usage: flowscale ${path.join(' ')}`);
    // Global options are the program's own, never a parent command's (runs --page under runs show).
    const global = help.split('Global Options:')[1]?.split('\n\n')[0] ?? '';
    expect(global).toContain('--api-url');
    expect(global).toContain('--profile');
    expect(global).not.toContain('--version');
    for (const parentOption of cmd.parent?.parent ? cmd.parent.options : [])
      expect(global).not.toContain(parentOption.long);
    // Each argument is described, under Arguments.
    if (cmd.registeredArguments.length > 0) {
      expect(help).toContain('Arguments:');
      for (const arg of cmd.registeredArguments)
        expect(help).toMatch(new RegExp(`\\n  ${arg.name()}\\s+\\S`));
    }
    expect(help).toMatch(/\nExamples:\n {2}\$ flowscale /);
  });
});
