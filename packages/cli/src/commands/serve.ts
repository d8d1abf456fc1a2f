import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from '../exit-codes';
import { processInterrupts } from '../io';
import { action, type ContextFactory } from '../program';

const parsePort = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
};

interface ServeOptions {
  port?: number;
  host?: string;
  dataDir?: string;
}

export function registerServe(program: Command, context: ContextFactory): void {
  program
    .command('serve')
    .description('start a FlowScale server with the embedded engine (same defaults as "npm start")')
    .option('--port <port>', 'port (env FLOWSCALE_PORT, default 8787; 0 picks a free one)', parsePort)
    .option('--host <host>', 'interface to bind (env FLOWSCALE_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'where runs and files live (env FLOWSCALE_DATA_DIR, default ./.data)')
    .action(
      action(context, async (ctx, opts: ServeOptions) => {
        // Loaded on demand: every other command works without the server package installed.
        let mod: typeof import('@flowscale/server');
        try {
          mod = await import('@flowscale/server');
        } catch (err) {
          // An optional peer dependency: only its absence gets the install hint, not a broken install.
          if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
          throw new CliError(
            '"flowscale serve" needs @flowscale/server next to the CLI: npm install @flowscale/server (with -g for a global CLI)',
          );
        }
        const server = await mod.startServer({
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        });
        const { out } = ctx;
        out.result({ url: server.url, port: server.port }, () => {
          out.line(`FlowScale server listening on ${out.color.cyan(server.url)}`);
          // A generated admin key (fresh data dir, no FLOWSCALE_API_KEY) is announced by the server itself.
          out.line(out.color.dim('press Ctrl-C to stop'));
        });
        await new Promise<void>((resolve) => {
          const off = (ctx.io.onInterrupt ?? processInterrupts)(() => {
            off();
            process.off('SIGTERM', onTerm);
            resolve();
          });
          const onTerm = () => {
            off();
            resolve();
          };
          process.once('SIGTERM', onTerm);
        });
        out.info('stopping…');
        await server.close();
      }),
    );
}
