import type { FastifyInstance } from 'fastify';
import { RUN_STATUSES } from 'flowscale/events';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BackendPool } from '../backends/backend-pool';
import type { EventBus } from '../events/event-bus';
import type { RunService } from '../runs/run-service';
import type { RunStore } from '../storage/stores';
import { runHistograms } from './run-metrics';

export interface Metrics {
  registry: Registry;
  observeRequests(app: FastifyInstance): void;
  /** Run duration, queue wait and backend execution histograms, from the events written here. */
  observeRuns(bus: EventBus): void;
}

/** Prometheus metrics on a private registry (several servers may share one process in tests). */
export function createMetrics(
  runStore: RunStore,
  runs: () => RunService,
  pool: () => BackendPool,
  bus?: EventBus,
): Metrics {
  const registry = new Registry();
  if (bus) eventBusGauges(registry, bus);
  // Process and runtime: CPU, memory, heap, event-loop lag, GC, handles.
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'flowscale_runs',
    help: 'Runs by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await runStore.countByStatus();
      for (const status of RUN_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'flowscale_queue_depth',
    help: 'Unfinished runs (queued or running) held by this server',
    registers: [registry],
    collect() {
      const { queued, running } = runs().activeCount();
      this.set(queued + running);
    },
  });
  new Gauge({
    name: 'flowscale_backend_up',
    help: '1 when the backend is connected',
    labelNames: ['container', 'url'],
    registers: [registry],
    collect() {
      for (const backend of pool().list())
        this.set({ container: backend.name, url: backend.url }, backend.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'flowscale_backend_queue_remaining',
    help: "Backend's own queue length as last reported",
    labelNames: ['container'],
    registers: [registry],
    collect() {
      for (const backend of pool().list()) this.set({ container: backend.name }, backend.queueRemaining);
    },
  });
  const latency = new Histogram({
    name: 'flowscale_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  // Label children cached per (method, route, status): resolving labels on every request is measurable.
  const children = new Map<string, { observe(value: number): void }>();
  return {
    registry,
    observeRuns(bus) {
      bus.onWritten(runHistograms(registry, runStore));
    },
    observeRequests(app) {
      app.addHook('onResponse', (request, reply, done) => {
        const route = request.routeOptions.url ?? 'unknown';
        const key = `${request.method} ${route} ${reply.statusCode}`;
        let child = children.get(key);
        if (!child) {
          child = latency.labels(request.method, route, String(reply.statusCode));
          children.set(key, child);
        }
        child.observe(reply.elapsedTime / 1000);
        done();
      });
    },
  };
}

/** What the event bus holds: a leak of subscribers (closed sockets, ended streams) shows here as growth. */
function eventBusGauges(registry: Registry, bus: EventBus): void {
  new Gauge({
    name: 'flowscale_event_bus_runs',
    help: 'Runs the event bus keeps a channel for',
    registers: [registry],
    collect() {
      this.set(bus.stats().runs);
    },
  });
  new Gauge({
    name: 'flowscale_event_bus_listeners',
    help: 'Event bus listeners: of one run each, or of every run',
    labelNames: ['scope'],
    registers: [registry],
    collect() {
      const { listeners, allListeners } = bus.stats();
      this.set({ scope: 'run' }, listeners);
      this.set({ scope: 'all' }, allListeners);
    },
  });
}
