import { FlowScaleError, FlowscaleAPI, type GetAllOutputsResponse } from 'flowscale';
import { FlowscaleAdminAPI } from 'flowscale/admin';
import { fileFromPath, WebSocket } from 'flowscale/node';

const api = new FlowscaleAPI({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1', webSocketImpl: WebSocket });
export const run: Promise<GetAllOutputsResponse> = api.executeWorkflowAsync('any', { text_1: 'x' });
export const file: Promise<File> = fileFromPath('x');
export const isError = (e: unknown) => e instanceof FlowScaleError && e.status;
export const admin: Promise<number> = new FlowscaleAdminAPI({ apiKey: 'k' })
  .listApiKeys()
  .then((r) => r.data.length);
