import type { Command } from 'commander';
import { type CommandContext, isHttpUrl } from '../context';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { configPath, maskKey, type Profile, profileName, readConfigFile, writeConfigFile } from '../profiles';
import { action, type ContextFactory } from '../program';

/** The settings a profile holds, by the names `config get|set` take. */
const KEYS: Record<string, keyof Profile> = { 'api-url': 'apiUrl', 'api-key': 'apiKey' };

const settingOf = (name: string): keyof Profile => {
  const key = KEYS[name.replace(/_/g, '-').toLowerCase()];
  if (!key) throw usageError(`unknown setting "${name}"; the settings are ${Object.keys(KEYS).join(', ')}`);
  return key;
};

function where(ctx: CommandContext): { name: string; path: string } {
  const path = configPath(ctx.io.env);
  if (!path) throw new CliError('no config folder: set HOME or XDG_CONFIG_HOME', ExitCode.generic);
  return { name: profileName(ctx.globals.profile, ctx.io.env), path };
}

export function registerConfig(program: Command, context: ContextFactory): void {
  const config = program
    .command('config')
    .description('read and change saved profiles (settings: api-url, api-key)')
    .addHelpText(
      'after',
      '\nPrecedence, highest first: --api-url/--api-key, FLOWSCALE_API_URL/FLOWSCALE_API_KEY, the profile\n(--profile, FLOWSCALE_PROFILE or "default"), then ./.env.\n',
    );

  config
    .command('list')
    .description('list the saved profiles (keys masked)')
    .addHelpText('after', '\nExamples:\n  $ flowscale config list\n  $ flowscale config list --json\n')
    .action(
      action(context, async (ctx) => {
        const { name, path } = where(ctx);
        const { profiles } = readConfigFile(path);
        const rows = Object.entries(profiles).map(([profile, p]) => ({
          profile,
          current: profile === name,
          api_url: p.apiUrl ?? null,
          api_key: p.apiKey ? maskKey(p.apiKey) : null,
        }));
        ctx.out.result({ path, profiles: rows }, () => {
          if (rows.length === 0) ctx.out.line(`no profiles in ${path}; run "flowscale login"`);
          else
            ctx.out.table(rows, [
              { header: 'PROFILE', value: (r) => `${r.current ? '* ' : '  '}${r.profile}` },
              { header: 'API URL', value: (r) => r.api_url ?? '' },
              { header: 'API KEY', value: (r) => r.api_key ?? '' },
            ]);
        });
      }),
    );

  config
    .command('get')
    .description('print one setting of the profile (the key masked unless --show-key)')
    .argument('<setting>', 'api-url or api-key')
    .option('--show-key', 'print the API key itself')
    .addHelpText(
      'after',
      '\nExamples:\n  $ flowscale config get api-url\n  $ flowscale config get api-key --profile staging\n',
    )
    .action(
      action(context, async (ctx, setting: string, opts: { showKey?: boolean }) => {
        const key = settingOf(setting);
        const { name, path } = where(ctx);
        const value = readConfigFile(path).profiles[name]?.[key];
        if (value === undefined)
          throw new CliError(`profile "${name}" in ${path} has no ${setting}`, ExitCode.notFound);
        const shown = key === 'apiKey' && !opts.showKey ? maskKey(value) : value;
        ctx.out.result({ profile: name, setting, value: shown }, () => ctx.out.line(shown));
      }),
    );

  config
    .command('set')
    .description('change one setting of the profile (created if missing)')
    .argument('<setting>', 'api-url or api-key')
    .argument('<value>', 'the new value')
    .addHelpText(
      'after',
      '\nExamples:\n  $ flowscale config set api-url http://127.0.0.1:8787\n  $ flowscale config set api-key fs_... --profile staging\n',
    )
    .action(
      action(context, async (ctx, setting: string, value: string) => {
        const key = settingOf(setting);
        const v = value.trim().replace(key === 'apiUrl' ? /\/+$/ : /$^/, '');
        if (key === 'apiUrl' && !isHttpUrl(v)) throw usageError(`"${value}" is not an http(s) URL`);
        if (!v) throw usageError(`${setting} cannot be empty`);
        const { name, path } = where(ctx);
        const file = readConfigFile(path);
        file.profiles[name] = { ...file.profiles[name], [key]: v };
        writeConfigFile(path, file);
        const shown = key === 'apiKey' ? maskKey(v) : v;
        ctx.out.result({ profile: name, setting, value: shown, path }, () =>
          ctx.out.line(`set ${setting} of profile "${name}" to ${shown} in ${path}`),
        );
      }),
    );
}
