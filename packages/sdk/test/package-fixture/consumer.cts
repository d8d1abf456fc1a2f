import { FlowscaleAPI, type ValidationError } from 'flowscale';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { isTerminalStatus, type RunStatus } from 'flowscale/events';
import { fileFromPath } from 'flowscale/node';
import { verifyWebhook, type WebhookPayload } from 'flowscale/webhooks';

const api = new FlowscaleAPI({ proxyMode: true, baseUrl: 'http://127.0.0.1:1' });
export const health = api.checkHealth({ timeout: 1000 });
export const file = fileFromPath('x');
export const details = (e: ValidationError) => e.details.map((d) => d.field);
export const keys = new FlowscaleAdminAPI({ apiKey: 'k' }).createApiKey({ name: 'n' });
export const finished = (status: RunStatus): boolean => isTerminalStatus(status);
export const hook: Promise<WebhookPayload> = verifyWebhook('{}', { 'webhook-id': 'x' }, 'whsec_x');
