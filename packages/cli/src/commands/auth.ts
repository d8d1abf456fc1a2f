import type { Command } from 'commander';
import { DEFAULT_API_URL, describeSource } from '../config';
import { type CommandContext, createClient, isHttpUrl } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { httpStatus } from '../http-status';
import { configPath, maskKey, profileName, readConfigFile, writeConfigFile } from '../profiles';
import { action, type ContextFactory } from '../program';
import { Prompter } from '../prompt';

export function registerAuth(program: Command, context: ContextFactory): void {
  program
    .command('login')
    .description('ask for a server URL and an API key, check them, and save them in a profile')
    .addHelpText(
      'after',
      '\nThe profile is saved in $XDG_CONFIG_HOME/flowscale/config.json (default ~/.config/flowscale/config.json),\nmode 0600. --api-url and --api-key skip the questions.\n\nExamples:\n  $ flowscale login\n  $ flowscale login --profile staging --api-url https://flowscale.example.com\n',
    )
    .action(action(context, login));

  program
    .command('logout')
    .description("remove the profile's saved server URL and API key")
    .addHelpText('after', '\nExamples:\n  $ flowscale logout\n  $ flowscale logout --profile staging\n')
    .action(
      action(context, async (ctx) => {
        const { name, path } = profileOf(ctx);
        const file = readConfigFile(path);
        const had = path !== undefined && name in file.profiles;
        if (had) {
          delete file.profiles[name];
          writeConfigFile(path, file);
        }
        ctx.out.result({ profile: name, path: path ?? null, removed: had }, () =>
          ctx.out.line(
            had ? `logged out: removed profile "${name}" from ${path}` : `no profile "${name}" to remove`,
          ),
        );
      }),
    );

  program
    .command('whoami')
    .description('show the server, the API key in use and where each came from, and check the key')
    .addHelpText(
      'after',
      '\nExamples:\n  $ flowscale whoami\n  $ flowscale whoami --profile staging --json\n',
    )
    .action(action(context, whoami));
}

const profileOf = (ctx: CommandContext): { name: string; path: string | undefined } =>
  ctx.config.profile ?? { name: 'default', path: configPath(ctx.io.env) };

async function login(ctx: CommandContext): Promise<void> {
  const { globals } = ctx;
  const name = profileName(globals.profile, ctx.io.env);
  const path = configPath(ctx.io.env);
  if (!path)
    throw new CliError(
      'cannot tell where to save the profile: set HOME or XDG_CONFIG_HOME',
      ExitCode.generic,
    );
  const saved = readConfigFile(path).profiles[name] ?? {};
  const prompter = new Prompter(ctx.io);
  let apiUrl = globals.apiUrl?.trim();
  let apiKey = globals.apiKey?.trim();
  try {
    if (!apiUrl) {
      const fallback = saved.apiUrl ?? DEFAULT_API_URL;
      apiUrl = (await prompter.ask(`FlowScale server URL [${fallback}]: `)) || fallback;
    }
    if (!apiKey) apiKey = await prompter.ask('API key: ', { secret: true });
  } finally {
    prompter.close();
  }
  apiUrl = apiUrl.replace(/\/+$/, '');
  if (!isHttpUrl(apiUrl))
    throw new CliError(`"${apiUrl}" is not an http(s) URL; nothing was saved`, ExitCode.usage);
  if (!apiKey) throw new CliError('no API key given; nothing was saved', ExitCode.auth);
  // The authenticated health call: it needs a valid key and nothing more.
  try {
    await createClient(apiUrl, apiKey).checkHealth();
  } catch (error) {
    const status = httpStatus(error);
    if (status === 401 || status === 403)
      throw new CliError(
        `the server at ${apiUrl} rejected this API key (HTTP ${status}); nothing was saved`,
        ExitCode.auth,
      );
    throw new CliError(
      `cannot check the key against ${apiUrl} (${(error as Error).message}); nothing was saved`,
      ExitCode.unreachable,
    );
  }
  const file = readConfigFile(path);
  file.profiles[name] = { apiUrl, apiKey };
  writeConfigFile(path, file);
  ctx.out.result({ profile: name, path, api_url: apiUrl, key: maskKey(apiKey) }, () =>
    ctx.out.line(`logged in to ${apiUrl} as profile "${name}" (key ${maskKey(apiKey!)}); saved in ${path}`),
  );
}

async function whoami(ctx: CommandContext): Promise<void> {
  const { config } = ctx;
  const client = ctx.client();
  await client.checkHealth();
  // Only an admin key may list keys: the answer says which kind this one is.
  let role = 'user';
  let keyName: string | undefined;
  try {
    const { data } = await client.listApiKeys();
    role = 'admin';
    keyName = data.find((k) => config.apiKey!.startsWith(k.prefix) && !k.revoked_at)?.name;
  } catch (error) {
    if (httpStatus(error) !== 403) throw error;
  }
  const urlFrom = describeSource(config.sources.apiUrl, 'FLOWSCALE_API_URL', '--api-url', config.profile);
  const keyFrom = describeSource(config.sources.apiKey, 'FLOWSCALE_API_KEY', '--api-key', config.profile);
  const { out } = ctx;
  out.result(
    {
      api_url: config.apiUrl,
      api_url_from: urlFrom,
      key: maskKey(config.apiKey!),
      key_from: keyFrom,
      key_name: keyName ?? null,
      role,
      profile: config.profile?.name ?? null,
    },
    () => {
      out.line(`server   ${config.apiUrl}  ${out.color.dim(`(from ${urlFrom})`)}`);
      out.line(`key      ${maskKey(config.apiKey!)}  ${out.color.dim(`(from ${keyFrom})`)}`);
      out.line(`role     ${role}${keyName ? ` (key "${keyName}")` : ''}`);
      out.line(`profile  ${config.profile?.name ?? 'default'}`);
    },
  );
}
