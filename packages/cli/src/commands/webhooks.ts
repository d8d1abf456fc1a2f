import { type Command, InvalidArgumentError } from 'commander';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType } from 'flowscale/webhooks';
import type { CommandContext } from '../context';
import { action, type ContextFactory } from '../program';

const EVENTS: WebhookEventType[] = [
  'run.started',
  'run.completed',
  'run.failed',
  'run.cancelled',
  'output.ready',
];

const eventList = (value: string): WebhookEventType[] => {
  const events = value.split(',').map((each) => each.trim());
  const unknown = events.filter((each) => !EVENTS.includes(each as WebhookEventType));
  if (unknown.length > 0 || events.length === 0) {
    throw new InvalidArgumentError(`unknown event ${unknown.join(', ')}; choose from ${EVENTS.join(', ')}`);
  }
  return events as WebhookEventType[];
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
};

const time = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '';

function printEndpoints(ctx: CommandContext, list: WebhookEndpoint[]): void {
  const { out } = ctx;
  out.result(list, () => {
    if (list.length === 0) return out.line('no webhook endpoints');
    out.table(list, [
      { header: 'ID', value: (e) => e.id },
      { header: 'URL', value: (e) => e.url },
      { header: 'EVENTS', value: (e) => e.events.join(',') },
      {
        header: 'STATUS',
        value: (e) =>
          !e.enabled
            ? out.color.red(`disabled (${e.disabled_reason ?? ''})`)
            : e.failing_since
              ? out.color.yellow(`failing since ${time(e.failing_since)}`)
              : out.color.green('enabled'),
      },
    ]);
  });
}

/** One row per attempt (a delivery not yet attempted gets one row too), newest delivery first. */
function printDeliveries(ctx: CommandContext, list: WebhookDelivery[]): void {
  const { out } = ctx;
  type Row = { d: WebhookDelivery; a: WebhookAttempt | undefined };
  const rows = list.flatMap((d): Row[] =>
    d.attempt_log.length === 0 ? [{ d, a: undefined }] : d.attempt_log.map((a) => ({ d, a })),
  );
  out.result(list, () => {
    if (list.length === 0) return out.line('no deliveries yet');
    out.table(rows, [
      { header: 'DELIVERY', value: ({ d }) => d.id },
      { header: 'EVENT', value: ({ d }) => d.event_type },
      { header: 'STATUS', value: ({ d }) => d.status },
      { header: 'ATTEMPT', value: ({ a }) => (a ? String(a.attempt) : '-') },
      { header: 'CODE', value: ({ a }) => (a ? String(a.status_code ?? a.error ?? '') : '') },
      { header: 'LATENCY', value: ({ a }) => (a ? `${a.latency_ms} ms` : '') },
      { header: 'AT', value: ({ a }) => time(a?.started_at) },
      { header: 'NEXT ATTEMPT', value: ({ d }) => time(d.next_attempt_at) },
    ]);
  });
}

export function registerWebhooks(program: Command, context: ContextFactory): void {
  const webhooks = program.command('webhooks').description('manage webhook subscriptions (admin)');

  webhooks
    .command('list')
    .description("list a project's webhook subscriptions, or the endpoint of one run")
    .option('--project <project>', 'project name or id (default: default)')
    .option('--run <run-id>', "the endpoint of this run's webhook_url")
    .action(
      action(context, async (ctx, opts: { project?: string; run?: string }) => {
        const query = {
          ...(opts.project ? { project: opts.project } : {}),
          ...(opts.run ? { runId: opts.run } : {}),
        };
        printEndpoints(ctx, (await ctx.client().listWebhooks(query)).data ?? []);
      }),
    );

  webhooks
    .command('create')
    .description('subscribe a URL to run events; the signing secret is printed once, store it now')
    .argument('<url>', 'where to POST the events')
    .option('-e, --events <list>', `comma-separated, from ${EVENTS.join(', ')} (default: all)`, eventList)
    .option('-d, --description <text>', 'a note for people')
    .option('--project <project>', 'project name or id (default: default)')
    .option('--secret <whsec>', 'your own whsec_ secret instead of a generated one')
    .action(
      action(
        context,
        async (
          ctx,
          url: string,
          opts: { events?: WebhookEventType[]; description?: string; project?: string; secret?: string },
        ) => {
          const { data } = await ctx.client().createWebhook({ url, ...opts });
          ctx.out.result(data, () => {
            // The only place the CLI prints a webhook secret: the server will not show it again.
            ctx.out.line(data.secret);
            ctx.out.info(
              ctx.out.errColor.dim(`webhook ${data.id} → ${data.url} (${data.events.join(', ')})`),
            );
          });
        },
      ),
    );

  webhooks
    .command('delete')
    .description('delete a webhook endpoint and its delivery log')
    .argument('<id>', 'the endpoint id from "flowscale webhooks list"')
    .action(
      action(context, async (ctx, id: string) => {
        await ctx.client().deleteWebhook(id);
        ctx.out.result({ id, deleted: true }, () => ctx.out.line(`deleted webhook ${id}`));
      }),
    );

  webhooks
    .command('deliveries')
    .description(
      "an endpoint's delivery log: every attempt, its status code and latency, and the next attempt",
    )
    .argument('<id>', 'the endpoint id')
    .option('-n, --limit <n>', 'newest deliveries to show (max 500)', positiveInt, 20)
    .action(
      action(context, async (ctx, id: string, opts: { limit: number }) => {
        printDeliveries(
          ctx,
          (await ctx.client().listWebhookDeliveries(id, { limit: opts.limit })).data ?? [],
        );
      }),
    );

  webhooks
    .command('redeliver')
    .description('send a delivery again now, with the same webhook-id and body')
    .argument('<id>', 'the endpoint id')
    .argument('<delivery-id>', 'the delivery id (msg_…) from "flowscale webhooks deliveries"')
    .action(
      action(context, async (ctx, id: string, deliveryId: string) => {
        const { data } = await ctx.client().redeliverWebhook(id, deliveryId);
        ctx.out.result(data, () => ctx.out.line(`redelivering ${data.id}`));
      }),
    );

  webhooks
    .command('test')
    .description('send a webhook.test event to an endpoint')
    .argument('<id>', 'the endpoint id')
    .action(
      action(context, async (ctx, id: string) => {
        const { data } = await ctx.client().testWebhook(id);
        ctx.out.result(data, () =>
          ctx.out.line(`sent test event ${data.id}; see "flowscale webhooks deliveries ${id}"`),
        );
      }),
    );

  webhooks
    .command('rotate-secret')
    .description('a new signing secret; the old one keeps signing during the overlap (printed once)')
    .argument('<id>', 'the endpoint id')
    .option('--overlap <seconds>', 'how long the old secret keeps signing (default a day)', positiveInt)
    .action(
      action(context, async (ctx, id: string, opts: { overlap?: number }) => {
        const body = opts.overlap === undefined ? {} : { overlap_seconds: opts.overlap };
        const { data } = await ctx.client().rotateWebhookSecret(id, body);
        ctx.out.result(data, () => ctx.out.line(data.secret));
      }),
    );
}
