import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FieldProblem } from '../../errors';

/** A 400 in the shape the error handler gives schema failures, so clients see one format. */
function notFinite(details: FieldProblem[]): Error {
  const message = details.map((d) => `${d.field.replace('.', '/')} ${d.message}`).join(', ');
  return Object.assign(new Error(message), { statusCode: 400, code: 'VALIDATION_ERROR', details });
}

function nonFinite(where: string, values: unknown): FieldProblem[] {
  if (typeof values !== 'object' || values === null) return [];
  const problems: FieldProblem[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      problems.push({ field: `${where}.${name}`, message: 'must be a finite number' });
    }
    // Postgres text cannot hold NUL, so `/runs/a%00b` would fail in the database (a 500) instead of here.
    if (typeof value === 'string' && value.includes('\u0000')) {
      problems.push({ field: `${where}.${name}`, message: 'must not contain a NUL character' });
    }
  }
  return problems;
}

/**
 * Ajv coerces `Infinity` and `1e400` into Infinity and then passes them as integers within every
 * minimum/maximum (its limit checks skip non-finite numbers), so a bounded parameter could still reach the
 * database as Infinity. This check runs after validation, on every route, old or new.
 */
export function refuseNonFiniteNumbers(app: FastifyInstance): void {
  app.addHook('preHandler', (request: FastifyRequest, _reply, done) => {
    const problems = [...nonFinite('querystring', request.query), ...nonFinite('params', request.params)];
    done(problems.length > 0 ? notFinite(problems) : undefined);
  });
}
