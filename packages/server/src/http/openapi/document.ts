import { ERROR_DESCRIPTIONS, OPERATIONS, type Operation } from './operations';
import { COMPONENT_SCHEMAS } from './schemas';

type Json = Record<string, unknown>;
type OpenApi = Json & { paths?: Record<string, Record<string, Json>>; components?: Json };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** `GET /api/v1/foo/{id}` → `getApiV1FooById`: for a route added later without an entry in OPERATIONS. */
const derivedId = (method: string, path: string): string =>
  method +
  path
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/^\{(.+)\}$/, 'by-$1'))
    .join('-')
    .split(/[^A-Za-z0-9]+/)
    .map((word) => (word ? word[0]!.toUpperCase() + word.slice(1) : ''))
    .join('');

function responsesFor(operation: Operation | undefined, declared: Json, isPublic: boolean): Json {
  const responses: Json = {};
  for (const [status, success] of Object.entries(operation?.responses ?? {})) {
    responses[status] = {
      description: success.description,
      ...(success.schema
        ? { content: { [success.type ?? 'application/json']: { schema: ref(success.schema) } } }
        : success.type
          ? { content: { [success.type]: { schema: { type: 'string', format: 'binary' } } } }
          : {}),
    };
  }
  if (!operation)
    for (const [status, body] of Object.entries(declared)) if (Number(status) < 400) responses[status] = body;
  const errors = new Set(Object.keys(declared).filter((status) => Number(status) >= 400));
  if (!isPublic) errors.add('401');
  errors.add('500');
  for (const status of [...errors].sort()) {
    if (responses[status]) continue;
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/json': { schema: ref('ErrorEnvelope') } },
    };
  }
  return responses;
}

/**
 * Finishes the document @fastify/swagger builds from the routes: an operationId on each, named component
 * schemas for every body, real status codes, per-route security, and `servers` from the public URL.
 */
export function finishDocument(document: OpenApi, publicUrl: string): OpenApi {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const operation = OPERATIONS[`${method.toUpperCase()} ${path}`];
      op.operationId = operation?.operationId ?? derivedId(method, path);
      const isPublic = operation?.public === true;
      op.security = isPublic ? [] : [{ APIKeyHeader: [] }];
      op.responses = responsesFor(operation, (op.responses as Json) ?? {}, isPublic);
      if (operation?.body)
        op.requestBody = {
          required: true,
          content: { [operation.body.type]: { schema: ref(operation.body.schema) } },
        };
    }
  }
  const existing = (document.components?.schemas as Json | undefined) ?? {};
  const text = JSON.stringify(document.paths);
  // Unnamed leftovers (def-N) go unless some inline schema still points at one.
  const kept = Object.fromEntries(
    Object.entries(existing).filter(([name]) => !name.startsWith('def-') || text.includes(`/${name}"`)),
  );
  document.components = { ...document.components, schemas: { ...kept, ...COMPONENT_SCHEMAS } };
  document.servers = publicUrl ? [{ url: publicUrl, description: 'This server' }] : [];
  return document;
}
