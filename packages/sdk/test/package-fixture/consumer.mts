import { FlowScaleError, FlowscaleAPI, type GetAllOutputsResponse } from 'flowscale';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { isTerminalEvent, type RunEvent } from 'flowscale/events';
import { fileFromPath, WebSocket } from 'flowscale/node';
import { verifyWebhook, type WebhookPayload } from 'flowscale/webhooks';

const api = new FlowscaleAPI({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1', webSocketImpl: WebSocket });
export const run: Promise<GetAllOutputsResponse> = api.executeWorkflowAsync('any', { text_1: 'x' });
export const file: Promise<File> = fileFromPath('x');
export const isError = (e: unknown) => e instanceof FlowScaleError && e.status;
export const admin: Promise<number> = new FlowscaleAdminAPI({ apiKey: 'k' })
  .listApiKeys()
  .then((r) => r.data.length);
export const last = (events: RunEvent[]): string | undefined => {
  const end = events.find(isTerminalEvent);
  return end?.type === 'run.failed' ? end.error.message : end?.status;
};
export const hook: Promise<WebhookPayload> = verifyWebhook('{}', { 'webhook-id': 'x' }, 'whsec_x');
