import { randomBytes } from 'node:crypto';
import type { EventSink } from './events';
import { type ExecutorDeps, PromptRun } from './executor';
import type { History } from './history';
import type { PromptQueue, QueueItem } from './queue';

export interface WorkerDeps extends Omit<ExecutorDeps, 'isInterrupted' | 'previewSuffix'> {
  queue: PromptQueue;
  history: History;
  events: EventSink;
  broadcastStatus(): void;
  log: { error(obj: unknown, msg: string): void };
}

const MAX_PREVIEW_SUFFIXES = 1000;

/** Takes prompts from the queue one at a time and runs them; owns the interrupt flag. */
export class PromptWorker {
  private busy: Promise<void> | null = null;
  private interruptRequested = false;
  private closed = false;
  private currentNode: string | null = null;
  private readonly suffixes = new Map<string, string>();

  constructor(private readonly deps: WorkerDeps) {}

  get running(): QueueItem | null {
    return this.deps.queue.running;
  }

  /** The node being executed right now, for a reconnecting client's greeting. */
  get runningNode(): string | null {
    return this.currentNode;
  }

  /** Global interrupt, or only when `promptId` is the running prompt. Ignored while idle. */
  interrupt(promptId?: string): boolean {
    const running = this.deps.queue.running;
    if (!running || (promptId !== undefined && running.promptId !== promptId)) return false;
    this.interruptRequested = true;
    return true;
  }

  kick(): void {
    if (this.busy || this.closed) return;
    this.busy = this.drain().finally(() => {
      this.busy = null;
    });
  }

  /** Stops taking new prompts, interrupts the running one and waits for it to finish. */
  async close(): Promise<void> {
    this.closed = true;
    this.interruptRequested = true;
    await this.busy;
  }

  private async drain(): Promise<void> {
    const { queue } = this.deps;
    for (let item = queue.take(); item && !this.closed; item = queue.take()) {
      this.deps.broadcastStatus();
      await this.runOne(item);
    }
    queue.running = null;
  }

  private async runOne(item: QueueItem): Promise<void> {
    this.interruptRequested = false;
    const run = new PromptRun(item, {
      ...this.deps,
      events: this.trackingSink(),
      isInterrupted: () => this.interruptRequested,
      previewSuffix: (nodeId, classType) => this.previewSuffix(`${classType}#${nodeId}`),
    });
    try {
      const entry = await run.execute();
      this.deps.history.add(item.promptId, entry);
    } catch (err) {
      this.deps.log.error({ err, promptId: item.promptId }, 'prompt execution crashed');
    }
    this.currentNode = null;
    this.deps.queue.running = null;
    this.deps.broadcastStatus();
    const clientId = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : undefined;
    this.deps.events.send('executing', { node: null, prompt_id: item.promptId }, clientId);
  }

  /** Remembers the executing node so a client that reconnects mid-run is told about it. */
  private trackingSink(): EventSink {
    const { events } = this.deps;
    return {
      send: (type, data, clientId, scope) => {
        if (type === 'executing') this.currentNode = (data as { node: string | null }).node;
        events.send(type, data, clientId, scope);
      },
      sendText: (nodeId, text) => events.sendText(nodeId, text),
    };
  }

  private previewSuffix(key: string): string {
    let suffix = this.suffixes.get(key);
    if (!suffix) {
      if (this.suffixes.size >= MAX_PREVIEW_SUFFIXES) this.suffixes.clear();
      suffix = [...randomBytes(5)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
      this.suffixes.set(key, suffix);
    }
    return suffix;
  }
}
