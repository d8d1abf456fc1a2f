import { type Command, Option } from 'commander';
import { action, type ContextFactory } from '../program';

export function registerKeys(program: Command, context: ContextFactory): void {
  const keys = program.command('keys').description('manage API keys (admin)');

  keys
    .command('create')
    .description('create an API key; it is printed once, store it now')
    .argument('<name>', 'a label for the key')
    .addOption(
      new Option('-r, --role <role>', 'what the key may do').choices(['admin', 'user']).default('user'),
    )
    .action(
      action(context, async (ctx, name: string, opts: { role: 'admin' | 'user' }) => {
        const { data: created } = await ctx.client().createApiKey({ name, role: opts.role });
        const { out } = ctx;
        out.result(created, () => {
          // The only place the CLI ever prints a key: the server will not show it again.
          out.line(created.key);
          out.info(
            out.errColor.dim(
              `key ${created.id} (${created.name}, ${created.role}); shown once, store it now`,
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
            { header: 'PREFIX', value: (k) => `${k.prefix}…` },
            { header: 'LAST USED', value: (k) => k.last_used_at ?? 'never' },
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
    .action(
      action(context, async (ctx, id: string) => {
        await ctx.client().revokeApiKey(id);
        ctx.out.result({ id, revoked: true }, () => ctx.out.line(`revoked key ${id}`));
      }),
    );
}
