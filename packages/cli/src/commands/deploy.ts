import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../exit-codes';
import { action, type ContextFactory } from '../program';

async function readJson(cwd: string, file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usageError(`${what}: ${code === 'ENOENT' ? 'no such file' : 'cannot read it'}: ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${what}: ${file} is not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
}

/** "my_flow_api.json" → "my_flow": the name people would type, without ComfyUI's export suffix. */
export const defaultWorkflowName = (file: string): string =>
  basename(file)
    .replace(/\.json$/i, '')
    .replace(/[_-]api$/i, '');

export function registerDeploy(program: Command, context: ContextFactory): void {
  program
    .command('deploy')
    .description('deploy (or update) a workflow from its ComfyUI API-format JSON (admin)')
    .argument('<workflow_api.json>', 'the workflow exported with "Save (API Format)"')
    .option('-n, --name <name>', 'workflow name (default: the file name)')
    .option('-d, --description <text>', 'a description shown in listings')
    .option('-m, --manifest <file>', 'JSON manifest naming inputs and outputs')
    .action(
      action(
        context,
        async (ctx, file: string, opts: { name?: string; description?: string; manifest?: string }) => {
          const workflow = await readJson(ctx.io.cwd, file, 'workflow');
          if (!workflow || typeof workflow !== 'object' || Array.isArray(workflow)) {
            throw usageError(`workflow: ${file} must be a JSON object of nodes (ComfyUI API format)`);
          }
          const manifest = opts.manifest ? await readJson(ctx.io.cwd, opts.manifest, 'manifest') : undefined;
          const { data: deployed } = await ctx.client().deployWorkflow({
            name: opts.name ?? defaultWorkflowName(file),
            ...(opts.description ? { description: opts.description } : {}),
            workflow: workflow as Record<string, unknown>,
            ...(manifest ? { manifest: manifest as Record<string, unknown> } : {}),
          });
          const { out } = ctx;
          out.result(deployed, () => {
            out.line(
              `${out.color.green('✓')} deployed ${out.color.bold(deployed.name)}  ${out.color.dim(deployed.id)}`,
            );
            const inputs = (deployed.input_schema ?? []).map(
              (f: { name: string; type: string }) => `${f.name}:${f.type}`,
            );
            if (inputs.length) out.line(`  inputs: ${inputs.join(' ')}`);
          });
        },
      ),
    );
}
