import type { FastifyInstance } from 'fastify';
import { invalidJson, isObject, parseJsonBody, sendEmpty, sendError } from '../body';
import type { EngineState } from '../state';

function idList(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  return value.map(String);
}

export function queueRoutes(app: FastifyInstance, state: EngineState): void {
  app.get('/queue', async () => state.queue.snapshot());

  app.post('/queue', async (req, reply) => {
    const parsed = parseJsonBody(req);
    if (!parsed.ok) return invalidJson(reply, parsed.message);
    const body = parsed.value;
    if (!isObject(body))
      return sendError(reply, 400, 'invalid_request', 'Expected {"delete": [ids]} or {"clear": true}');
    const ids = 'delete' in body ? idList(body.delete) : [];
    if (!ids) return sendError(reply, 400, 'invalid_request', '"delete" must be a list of prompt ids');
    // ComfyUI's wipe_queue sends one status for the whole clear, even of an empty queue.
    if (body.clear) {
      state.queue.clear();
      state.hub.broadcastStatus();
    }
    // delete_queue_item sends one status per removed item (two for the last one, which it removes with
    // wipe_queue); unknown ids send nothing.
    for (const id of ids) {
      const last = state.queue.pendingCount === 1;
      if (state.queue.delete([id]) === 0) continue;
      if (last) state.hub.broadcastStatus();
      state.hub.broadcastStatus();
    }
    return sendEmpty(reply);
  });

  app.post('/interrupt', async (req, reply) => {
    const parsed = parseJsonBody(req, {});
    if (!parsed.ok) return invalidJson(reply, parsed.message);
    const body = isObject(parsed.value) ? parsed.value : {};
    const promptId = body.prompt_id;
    if (promptId !== undefined && promptId !== null) {
      const hit = state.worker.interrupt(String(promptId));
      if (!hit) req.log.info({ promptId }, 'prompt not currently running, skipping interrupt');
    } else {
      state.worker.interrupt();
    }
    return sendEmpty(reply);
  });

  app.post('/free', async (req, reply) => {
    const parsed = parseJsonBody(req, {});
    if (!parsed.ok) return invalidJson(reply, parsed.message);
    if (isObject(parsed.value) && parsed.value.free_memory) state.cache.clear();
    return sendEmpty(reply);
  });
}
