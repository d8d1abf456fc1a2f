import type { FastifyInstance } from 'fastify';
import { invalidJson, isObject, parseJsonBody, sendEmpty, sendError } from '../body';
import type { EngineState } from '../state';

function intParam(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  return /^[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : null;
}

export function historyRoutes(app: FastifyInstance, state: EngineState): void {
  app.get('/history', async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const maxItems = intParam(query.max_items);
    const offset = intParam(query.offset);
    if (maxItems === null || offset === null) {
      return sendError(reply, 400, 'invalid_query', 'max_items and offset must be integers');
    }
    return state.history.list(maxItems, offset ?? -1);
  });

  app.get('/history/:promptId', async (req) => {
    const { promptId } = req.params as { promptId: string };
    const entry = state.history.get(promptId);
    return entry ? { [promptId]: entry } : {};
  });

  app.post('/history', async (req, reply) => {
    const parsed = parseJsonBody(req);
    if (!parsed.ok) return invalidJson(reply, parsed.message);
    const body = parsed.value;
    if (!isObject(body))
      return sendError(reply, 400, 'invalid_request', 'Expected {"delete": [ids]} or {"clear": true}');
    if (body.clear) state.history.clear();
    if ('delete' in body) {
      if (!Array.isArray(body.delete))
        return sendError(reply, 400, 'invalid_request', '"delete" must be a list');
      state.history.delete(body.delete.map(String));
    }
    return sendEmpty(reply);
  });
}
