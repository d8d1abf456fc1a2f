import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { promptError } from '../../graph/errors';
import { validatePrompt } from '../../graph/validate';
import { invalidJson, isObject, parseJsonBody } from '../body';
import type { EngineState } from '../state';

function takeNumber(state: EngineState, body: Record<string, unknown>): number | null {
  if ('number' in body) {
    const n = Number(body.number);
    return Number.isFinite(n) ? n : null;
  }
  const n = state.nextNumber++;
  return body.front === true ? -n : n;
}

export function promptRoutes(app: FastifyInstance, state: EngineState): void {
  app.get('/prompt', async () => ({ exec_info: { queue_remaining: state.queue.remaining() } }));

  app.post('/prompt', async (req, reply) => {
    const parsed = parseJsonBody(req);
    if (!parsed.ok) return invalidJson(reply, parsed.message);
    const body = parsed.value;
    if (!isObject(body)) {
      return reply
        .code(400)
        .send(promptError('invalid_request', 'Request body must be a JSON object', typeof body));
    }
    const number = takeNumber(state, body);
    if (number === null) {
      return reply.code(400).send(promptError('invalid_request', '"number" must be a finite number', ''));
    }
    if (!('prompt' in body))
      return reply.code(400).send(promptError('no_prompt', 'No prompt provided', 'No prompt provided'));
    if (state.queue.pendingCount >= state.limits.maxQueueLength) {
      return reply.code(503).send(promptError('queue_full', 'The queue is full; try again later', ''));
    }
    if (isObject(body.prompt) && Object.keys(body.prompt).length > state.limits.maxPromptNodes) {
      const detail = `${Object.keys(body.prompt).length} nodes; the limit is ${state.limits.maxPromptNodes}`;
      return reply.code(400).send(promptError('prompt_too_large', 'The prompt has too many nodes', detail));
    }
    const result = await validatePrompt(
      body.prompt,
      state.registry,
      state.env,
      body.partial_execution_targets,
    );
    if (!result.ok) return reply.code(400).send(result.body);
    const promptId = 'prompt_id' in body && body.prompt_id !== null ? String(body.prompt_id) : randomUUID();
    const extraData: Record<string, unknown> = isObject(body.extra_data) ? { ...body.extra_data } : {};
    if ('client_id' in body && body.client_id !== null && body.client_id !== undefined) {
      extraData.client_id = String(body.client_id);
    }
    state.queue.push({ number, promptId, prompt: result.prompt, extraData, outputs: result.outputs });
    state.hub.broadcastStatus();
    state.worker.kick();
    return { prompt_id: promptId, number, node_errors: result.nodeErrors };
  });
}
