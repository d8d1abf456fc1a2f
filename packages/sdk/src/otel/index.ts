import { context, isSpanContextValid, propagation, TraceFlags, trace } from '@opentelemetry/api';

/**
 * The trace context of the active span as request headers (W3C `traceparent`, and `tracestate` when there
 * is one), or none when no span is active. Pass it as the client's `requestHeaders`:
 * `new FlowscaleAPI({ apiKey, requestHeaders: traceHeaders })`.
 *
 * The propagator registered with OpenTelemetry writes them (the Node and web SDKs register W3C trace
 * context by default); with none registered, the `traceparent` is written here from the active span.
 */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const active = context.active();
  propagation.inject(active, headers);
  if (Object.keys(headers).length > 0) return headers;
  const span = trace.getSpanContext(active);
  if (span && isSpanContextValid(span)) {
    const sampled = span.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
    headers.traceparent = `00-${span.traceId}-${span.spanId}-${sampled}`;
    const state = span.traceState?.serialize();
    if (state) headers.tracestate = state;
  }
  return headers;
}
