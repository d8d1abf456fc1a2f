import type { ComfyQueue } from '../backends/comfy-types';
import type { Run } from '../storage/records';

export interface ContainerQueueView {
  container: string;
  queue: { queue_running: unknown[][]; queue_pending: unknown[][] };
}

type Entry = unknown[];

/** ComfyUI orders its queue by the entry's number (its first element), not by array order. */
const byNumber = (entries: Entry[]): Entry[] =>
  [...entries].sort((a, b) => Number(a[0] ?? 0) - Number(b[0] ?? 0));

/**
 * A backend queue as one project may see it: only its own runs, each as `[position, run_id]` where
 * position counts the entries ahead of it (of any project). No graph and no prompt id, its own or others'.
 */
export function projectQueue(
  container: string,
  queue: ComfyQueue | null,
  runsByPrompt: ReadonlyMap<string, Run>,
): ContainerQueueView {
  const own = (entries: Entry[]): Entry[] =>
    byNumber(entries).flatMap((entry, position) => {
      const run = runsByPrompt.get(String(entry[1]));
      return run ? [[position, run.id]] : [];
    });
  return {
    container,
    queue: {
      queue_running: own((queue?.queue_running ?? []) as Entry[]),
      queue_pending: own((queue?.queue_pending ?? []) as Entry[]),
    },
  };
}
