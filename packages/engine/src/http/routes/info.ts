import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { isModelFolder, listModels, MODEL_FOLDERS } from '../../data/models';
import { objectInfo } from '../../nodes/object-info';
import { FEATURES } from '../../ws/hub';
import type { EngineState } from '../state';

export const COMFYUI_VERSION = '0.3.64';
export const ENGINE_VERSION = '0.1.0';
const JSON_TYPE = 'application/json; charset=utf-8';

export function infoRoutes(app: FastifyInstance, state: EngineState): void {
  // Sent as text: the JSON carries Python's number spelling (1.0, exact int64 bounds).
  app.get('/object_info', async (_req, reply) =>
    reply.type(JSON_TYPE).send(await objectInfo(state.registry, state.dirs)),
  );
  app.get('/object_info/:nodeClass', async (req, reply) => {
    const { nodeClass } = req.params as { nodeClass: string };
    return reply.type(JSON_TYPE).send(await objectInfo(state.registry, state.dirs, nodeClass));
  });
  app.get('/system_stats', async () => {
    const total = os.totalmem();
    const free = os.freemem();
    return {
      system: {
        os: process.platform === 'win32' ? 'nt' : 'posix',
        ram_total: total,
        ram_free: free,
        comfyui_version: COMFYUI_VERSION,
        engine: '@flowscale/engine',
        engine_version: ENGINE_VERSION,
        required_frontend_version: null,
        installed_templates_version: null,
        required_templates_version: null,
        python_version: `node ${process.version}`,
        pytorch_version: null,
        embedded_python: false,
        argv: state.argv,
      },
      // Not in ComfyUI: the engine's own bounded state, so memory use can be watched.
      engine: {
        queue_remaining: state.queue.remaining(),
        history_entries: state.history.size,
        history_bytes: state.history.approxBytes,
        cache_entries: state.cache.size,
        cache_bytes: state.cache.approxBytes,
        websocket_clients: state.hub.size,
        cache_policy: state.cache.policy,
        loaded_models: state.env.models ? [...state.env.models.loaded] : [],
        model_loads: state.env.models?.loads ?? 0,
        rss_bytes: process.memoryUsage.rss(),
      },
      devices: [
        {
          name: 'cpu',
          type: 'cpu',
          index: null,
          vram_total: total,
          vram_free: free,
          torch_vram_total: total,
          torch_vram_free: free,
        },
      ],
    };
  });
  app.get('/features', async () => FEATURES);
  app.get('/embeddings', async () => []);
  app.get('/extensions', async () => []);
  app.get('/models', async () => MODEL_FOLDERS);
  app.get('/models/:folder', async (req, reply) => {
    const { folder } = req.params as { folder: string };
    if (!isModelFolder(folder))
      return reply
        .code(404)
        .send({ error: { type: 'not_found', message: `Unknown model folder "${folder}"` } });
    return listModels(state.dirs, folder);
  });
}
