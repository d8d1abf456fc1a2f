import type { RunEvent } from 'flowscale';
import { useEffect, useState } from 'react';
import { useSession } from '../auth';
import { clock, duration } from '../format';

/** Every event of the run with its time, replayed from the first and then live. */
export function useRunEvents(runId: string): { events: RunEvent[]; error: string | null } {
  const { client } = useSession();
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setEvents([]);
    const subscription = client.subscribeRunEvents(runId, {
      fromSeq: 1,
      onEvent: (message) =>
        setEvents((list) => (list.some((e) => e.seq === message.data.seq) ? list : [...list, message.data])),
      onError: (err) => setError(err instanceof Error ? err.message : String(err)),
    });
    return () => subscription.close();
  }, [client, runId]);
  return { events, error };
}

function detail(event: RunEvent): string {
  switch (event.type) {
    case 'run.queued':
      return `queue position ${event.queue_position}`;
    case 'run.started':
      return `on ${event.backend}`;
    case 'node.executing':
      return `node ${event.node_id}${event.node_type ? ` (${event.node_type})` : ''}`;
    case 'node.progress':
      return `node ${event.node_id}: ${event.value}/${event.max}`;
    case 'output.ready':
      return event.output.filename;
    case 'run.completed':
      return `${event.outputs.length} output${event.outputs.length === 1 ? '' : 's'}`;
    case 'run.failed':
      return event.error.message;
    default:
      return '';
  }
}

export function Timeline({ events, error }: { events: RunEvent[]; error: string | null }) {
  const first = events[0] ? Date.parse(events[0].ts) : 0;
  return (
    <section className="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {error && <p className="error">Event stream: {error}</p>}
      {events.length === 0 && !error && <p className="loading">Waiting for events…</p>}
      <ol className="timeline">
        {events.map((event) => (
          <li key={event.seq} data-event={event.type}>
            <time dateTime={event.ts} className="num">
              {clock(event.ts)}
            </time>
            <span className="num elapsed">+{duration(Date.parse(event.ts) - first)}</span>
            <span className="event-type">{event.type}</span>
            <span className="event-detail">{detail(event)}</span>
            <span className="num pct">{event.progress}%</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
