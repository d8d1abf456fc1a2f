import { type Command, InvalidArgumentError } from 'commander';
import { action, type ContextFactory } from '../program';

interface RunOptions {
  input?: string[];
  group?: string;
  out: string;
  wait: boolean;
  timeout?: number;
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (stream)
    for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export const parseSeconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
};

export function registerRun(program: Command, context: ContextFactory): void {
  program
    .command('run')
    .description('run a workflow, show its progress and download its outputs')
    .argument('<workflow>', 'workflow id or name')
    .option(
      '-i, --input <name=value>',
      'an input; repeatable. name=@path reads a file, name=@- stdin',
      collect,
    )
    .option('-g, --group <group>', 'group id to file the run under')
    .option('-o, --out <dir>', 'directory to download outputs into', '.')
    .option('--no-wait', 'print the run id and return (follow it later with "flowscale runs watch <id>")')
    .option('--timeout <seconds>', 'stop waiting after this long (exit 6; the run keeps going)', parseSeconds)
    .addHelpText(
      'after',
      '\nExamples:\n  $ flowscale run text-echo -i default_value_1="hi there"\n  $ flowscale run invert-image -i image_1=@photo.png --out ./results\n',
    )
    .action(
      action(context, async (ctx, workflow: string, opts: RunOptions) => {
        // The command's code loads when it runs, not when the CLI starts.
        const [{ followRun }, { buildInputs, parseInputFlags }, { uploadBar }, { lookupWorkflow }] =
          await Promise.all([
            import('../follow'),
            import('../inputs'),
            import('../progress'),
            import('../workflow-lookup'),
          ]);
        const { out } = ctx;
        const client = ctx.client();
        const wf = await lookupWorkflow(ctx, workflow);
        const inputs = await buildInputs(parseInputFlags(opts.input ?? []), wf.input_schema, wf.name, {
          cwd: ctx.io.cwd,
          readStdin: () => readAll(ctx.io.stdin),
        });
        // A bar while file inputs upload (a 200 MB input takes seconds), on a terminal only.
        const hasFile = Object.values(inputs).some((v) => v instanceof Blob);
        const bar = hasFile ? uploadBar(ctx.io.stderr, out.json) : uploadBar(ctx.io.stderr, true);
        let submitted: { run_id: string };
        try {
          ({ data: submitted } = await client.executeWorkflow(wf.id, inputs, opts.group, {
            onUploadProgress: bar.onUploadProgress,
          }));
        } finally {
          bar.done();
        }
        const runId = submitted.run_id;

        if (!opts.wait) {
          out.result({ run_id: runId, workflow_id: wf.id }, () => out.line(runId));
          return;
        }

        await followRun(ctx, {
          runId,
          workflowId: wf.id,
          label: wf.name,
          out: opts.out,
          timeout: opts.timeout,
        });
      }),
    );
}
