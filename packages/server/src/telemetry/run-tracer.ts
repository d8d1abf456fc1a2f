import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { isTerminalEventType } from 'flowscale/events';
import type { Run, RunEvent, RunOutput } from '../storage/records';
import type { RunTracing } from './run-tracing';

/** The spans of one run that this replica has open. */
interface RunTrace {
  /** Parent of the run's spans: the submitting request's span (or `root`). */
  parent: Context;
  /** Only for a run stored without a trace context (submitted while traces were off). */
  root?: Span;
  placed: boolean;
  /** When a dispatch attempt gave the run back to the queue: the next queue wait starts there. */
  requeuedAt?: Date;
  dispatch?: Span;
  execute?: Span;
  node?: Span;
  nodeId?: string;
}

const dateOf = (iso: string | null | undefined): Date => {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return new Date(Number.isFinite(ms) ? ms : Date.now());
};

const attributesOf = (run: Run): Attributes => ({
  'flowscale.run.id': run.id,
  'flowscale.workflow.id': run.workflowId,
});

/** The spans of each run's steps, from the run service's hooks and the events it writes. */
export class RunTracer implements RunTracing {
  readonly #tracer: Tracer;
  // Keyed by the record the run service holds while it owns the run: a run handed to another replica
  // takes its open spans with it when that record is dropped (the new owner opens its own).
  readonly #traces = new WeakMap<Run, RunTrace>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  capture(): string | null {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return carrier.traceparent ? JSON.stringify(carrier) : null;
  }

  placed(run: Run, backend: string): void {
    const open = this.#traceOf(run);
    const now = new Date();
    const startTime = open.requeuedAt ?? dateOf(run.createdAt);
    this.#tracer
      .startSpan('flowscale.queue_wait', { startTime, attributes: attributesOf(run) }, open.parent)
      .end(now);
    open.dispatch?.end(now);
    const attributes = { ...attributesOf(run), 'flowscale.backend': backend };
    open.dispatch = this.#tracer.startSpan('flowscale.dispatch', { startTime: now, attributes }, open.parent);
    open.placed = true;
  }

  dispatched(run: Run, outcome: string): void {
    const open = this.#traces.get(run);
    if (!open?.dispatch) return;
    open.dispatch.setAttribute('flowscale.dispatch.outcome', outcome);
    if (outcome === 'rejected') open.dispatch.setStatus({ code: SpanStatusCode.ERROR, message: 'rejected' });
    open.dispatch.end();
    open.dispatch = undefined;
    if (outcome !== 'submitted' && outcome !== 'rejected') open.requeuedAt = new Date();
  }

  written(run: Run, event: RunEvent): void {
    // The most frequent event, and no span of its own.
    if (event.type === 'node.progress') return;
    if (event.type === 'run.started') {
      this.#executing(run, this.#traceOf(run), dateOf(event.ts), event.data.backend);
    } else if (event.type === 'node.executing') {
      this.#nodeStarted(run, event);
    } else if (isTerminalEventType(event.type)) {
      this.#ended(run, event);
    }
  }

  async storing(
    run: Run,
    output: { name: string; nodeId: string },
    store: () => Promise<RunOutput>,
  ): Promise<RunOutput> {
    const open = this.#traceOf(run);
    const parent = open.execute ? trace.setSpan(open.parent, open.execute) : open.parent;
    const attributes = {
      ...attributesOf(run),
      'flowscale.output.name': output.name,
      'flowscale.node.id': output.nodeId,
    };
    const span = this.#tracer.startSpan('flowscale.store_output', { attributes }, parent);
    try {
      const stored = await store();
      span.setAttributes({
        'flowscale.output.filename': stored.filename,
        'flowscale.output.size': stored.size,
        'flowscale.output.content_type': stored.content_type,
      });
      return stored;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  }

  #traceOf(run: Run): RunTrace {
    let open = this.#traces.get(run);
    if (open) return open;
    const stored = parseCarrier(run.traceContext);
    if (stored) {
      open = { parent: propagation.extract(ROOT_CONTEXT, stored), placed: false };
    } else {
      // Submitted while traces were off: the run gets a trace of its own on this replica.
      const attributes = attributesOf(run);
      const root = this.#tracer.startSpan('flowscale.run', {
        root: true,
        attributes,
        startTime: dateOf(run.createdAt),
      });
      open = { parent: trace.setSpan(ROOT_CONTEXT, root), root, placed: false };
    }
    this.#traces.set(run, open);
    return open;
  }

  #executing(run: Run, open: RunTrace, startTime: Date, backend?: unknown): Span {
    if (!open.execute) {
      const attributes: Attributes = attributesOf(run);
      if (typeof backend === 'string') attributes['flowscale.backend'] = backend;
      open.execute = this.#tracer.startSpan('flowscale.execute', { startTime, attributes }, open.parent);
    }
    return open.execute;
  }

  /** A node started: the one before it ended (ComfyUI runs one node at a time). */
  #nodeStarted(run: Run, event: RunEvent): void {
    const open = this.#traceOf(run);
    const ts = dateOf(event.ts);
    open.node?.end(ts);
    const execute = this.#executing(run, open, dateOf(run.startedAt ?? event.ts));
    const nodeId = String(event.data.node_id);
    const nodeType = typeof event.data.node_type === 'string' ? event.data.node_type : undefined;
    const attributes: Attributes = { ...attributesOf(run), 'flowscale.node.id': nodeId };
    if (nodeType) attributes['flowscale.node.type'] = nodeType;
    const parent = trace.setSpan(open.parent, execute);
    open.node = this.#tracer.startSpan(
      `flowscale.node ${nodeType ?? nodeId}`,
      { startTime: ts, attributes },
      parent,
    );
    open.nodeId = nodeId;
  }

  #ended(run: Run, event: RunEvent): void {
    const open = this.#traceOf(run);
    this.#traces.delete(run);
    const ts = dateOf(event.ts);
    const status = event.type.slice('run.'.length);
    const error = event.data.error as { message?: string; node_id?: string } | undefined;
    const failure = { code: SpanStatusCode.ERROR, message: error?.message ?? status };
    if (open.node) {
      if (error && error.node_id === open.nodeId) open.node.setStatus(failure);
      open.node.end(ts);
    }
    open.dispatch?.end(ts);
    if (!open.placed && !open.execute) {
      // Ended before any backend took it (cancelled in the queue, or no backend in time).
      const startTime = open.requeuedAt ?? dateOf(run.createdAt);
      const attributes = { ...attributesOf(run), 'flowscale.run.status': status };
      this.#tracer.startSpan('flowscale.queue_wait', { startTime, attributes }, open.parent).end(ts);
    }
    for (const span of [open.execute, open.root]) {
      if (!span) continue;
      span.setAttribute('flowscale.run.status', status);
      if (event.type === 'run.failed') span.setStatus(failure);
      span.end(ts);
    }
  }
}

function parseCarrier(text: string | null | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  try {
    const carrier = JSON.parse(text) as unknown;
    return carrier && typeof carrier === 'object' ? (carrier as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}
