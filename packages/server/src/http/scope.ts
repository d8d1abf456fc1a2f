import type { FastifyRequest } from 'fastify';
import { projectScope, type Scope, scopeOfKey } from '../projects/scope';

/** No project at all: what a request without a key (only public routes have none) may see. */
const NOBODY = projectScope('');

/** What the request's API key may see. */
export const scopeOf = (request: FastifyRequest): Scope =>
  request.apiKey ? scopeOfKey(request.apiKey) : NOBODY;
