import { type Command, Option } from 'commander';
import { formatTime } from '../output';
import { action, type ContextFactory } from '../program';
import { confirm } from '../prompt';

interface KeyOptions {
  role: 'admin' | 'member' | 'viewer' | 'user';
  project?: string;
  expiresAt?: string;
}

export function registerKeys(program: Command, context: ContextFactory): void {
  const keys = program.command('keys').description('manage API keys (admin)');

  keys
    .command('create')
    .description('create an API key; it is printed once, store it now')
    .argument('<name>', 'a label for the key')
    .addOption(
      new Option('-r, --role <role>', 'what the key may do')
        .choices(['admin', 'member', 'viewer', 'user'])
        .default('member'),
    )
    .option('-p, --project <project>', 'project name or id (default: the default project)')
    .option('--expires-at <time>', 'ISO-8601 time after which the key is refused')
    .action(
      action(context, async (ctx, name: string, opts: KeyOptions) => {
        const { data: created } = await ctx.client().createApiKey({
          name,
          role: opts.role,
          ...(opts.project ? { project: opts.project } : {}),
          ...(opts.expiresAt ? { expires_at: opts.expiresAt } : {}),
        });
        const { out } = ctx;
        out.result(created, () => {
          // The only place the CLI ever prints a key: the server will not show it again.
          out.line(created.key);
          out.info(
            out.errColor.dim(
              `key ${created.id} (${created.name}, ${created.role} of ${created.project}); shown once, store it now`,
            ),
          );
        });
      }),
    );

  keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .action(
      action(context, async (ctx) => {
        const { data } = await ctx.client().listApiKeys();
        const list = data ?? [];
        const { out } = ctx;
        out.result(list, () =>
          out.table(list, [
            { header: 'ID', value: (k) => k.id },
            { header: 'NAME', value: (k) => k.name },
            { header: 'ROLE', value: (k) => k.role },
            { header: 'PROJECT', value: (k) => k.project },
            { header: 'PREFIX', value: (k) => `${k.prefix}…` },
            { header: 'LAST USED', value: (k) => formatTime(k.last_used_at) || 'never' },
            {
              header: 'STATUS',
              value: (k) => (k.revoked_at ? out.color.red('revoked') : out.color.green('active')),
            },
          ]),
        );
      }),
    );

  keys
    .command('revoke')
    .description('revoke an API key')
    .argument('<id>', 'the key id from "flowscale keys list"')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ flowscale keys revoke key_123\n  $ flowscale keys revoke key_123 --yes\n',
    )
    .action(
      action(context, async (ctx, id: string, opts: { yes?: boolean }) => {
        await confirm(ctx.io, `revoke API key ${id}; programs using it will stop working`, opts.yes);
        await ctx.client().revokeApiKey(id);
        ctx.out.result({ id, revoked: true }, () => ctx.out.line(`revoked key ${id}`));
      }),
    );
}
