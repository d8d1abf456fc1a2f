import type { WebhookPayload, WebhookRun, WebhookRunOutput } from 'flowscale/webhooks';
import type { RunView } from '../runs/run-view';

/** The run record with `download_url` on every file output (the same signed, expiring URL as `url`). */
export function webhookRun(view: RunView): WebhookRun {
  return { ...view, outputs: view.outputs.map((output) => ({ ...output, download_url: output.url })) };
}

/**
 * The body of one event's deliveries, serialized once: every endpoint and every retry gets these exact
 * bytes, so a receiver can compare retries by `webhook-id` alone.
 */
export function runEventBody(
  type: WebhookPayload['type'],
  at: string,
  view: RunView,
  eventData: Record<string, unknown>,
): string {
  const run = webhookRun(view);
  const data: WebhookPayload['data'] = { run };
  if (type === 'output.ready') {
    const filename = (eventData.output as { filename?: string } | undefined)?.filename;
    const output: WebhookRunOutput | undefined = run.outputs.find((each) => each.filename === filename);
    if (output) data.output = output;
  }
  const payload: WebhookPayload = { type, timestamp: at, data };
  return JSON.stringify(payload);
}

export function testEventBody(at: string): string {
  const payload: WebhookPayload = {
    type: 'webhook.test',
    timestamp: at,
    data: { message: 'A test event from your FlowScale server. Answer 2xx to acknowledge it.' },
  };
  return JSON.stringify(payload);
}
