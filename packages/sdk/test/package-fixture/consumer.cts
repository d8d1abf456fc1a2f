import { FlowscaleAPI, type ValidationError } from 'flowscale';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { fileFromPath } from 'flowscale/node';

const api = new FlowscaleAPI({ proxyMode: true, baseUrl: 'http://127.0.0.1:1' });
export const health = api.checkHealth({ timeout: 1000 });
export const file = fileFromPath('x');
export const details = (e: ValidationError) => e.details.map((d) => d.field);
export const keys = new FlowscaleAdminAPI({ apiKey: 'k' }).createApiKey({ name: 'n' });
