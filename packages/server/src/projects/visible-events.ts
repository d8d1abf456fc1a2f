import type { SharedEvent } from '../events/shared-event';
import type { RunAccess } from './run-access';
import type { Scope } from './scope';

/**
 * Passes on only the events of runs the scope may see, in the order they came. A run whose owner is known
 * is decided at once; otherwise its owner is read, and events behind it wait their turn.
 */
export function visibleEvents(
  access: RunAccess,
  scope: Scope,
  listener: (event: SharedEvent) => void,
): (event: SharedEvent) => void {
  if (scope.projectId === null) return listener;
  let waiting = 0;
  let chain: Promise<void> = Promise.resolve();
  return (event) => {
    const owner = access.ownerIfKnown(event.runId);
    if (waiting === 0 && owner !== undefined) {
      if (owner === scope.projectId) listener(event);
      return;
    }
    waiting++;
    chain = chain
      .then(async () => {
        if (await access.visible(event.runId, scope)) listener(event);
      })
      .catch(() => undefined)
      .finally(() => {
        waiting--;
      });
  };
}
