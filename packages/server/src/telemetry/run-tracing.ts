import type { Run, RunEvent, RunOutput } from '../storage/records';

/**
 * What run code tells the tracer, one call per step; present only while traces are on. Every span of a
 * run joins the trace of the request that submitted it (stored with the run as `traceContext`), so the
 * steps a different replica performs land in the same trace.
 */
export interface RunTracing {
  /** The trace context of the request being served, to store with a new run. */
  capture(): string | null;
  /** The run got a backend: its queue wait ends and its dispatch (input uploads, the POST) begins. */
  placed(run: Run, backend: string): void;
  /** The dispatch is over, with the dispatcher's outcome (`submitted`, `rejected`, `retry`, ...). */
  dispatched(run: Run, outcome: string): void;
  /** An event of the run was written here: execution, each node's span, the end. */
  written(run: Run, event: RunEvent): void;
  /** Storing one output file, as a span around `store`. */
  storing(
    run: Run,
    output: { name: string; nodeId: string },
    store: () => Promise<RunOutput>,
  ): Promise<RunOutput>;
}
