import type { Run, RunEvent } from '../storage/records';
import { SharedEvent } from './shared-event';

export type RunEventListener = (event: SharedEvent) => void;
export type RunChangeListener = (runId: string) => void;
/**
 * Hears each event this replica persists. `run` is the run as the event left it, when the writer has it in
 * memory: valid during the call only (copy what is kept), and absent when the writer did not pass it.
 */
export type WrittenListener = (event: RunEvent, run?: Readonly<Run>) => void;

/**
 * Where the events other replicas persist come from (PgEventRelay). The bus tells it which runs have local
 * subscribers; it hands their events to `deliver`, in any order and possibly twice: the bus sorts that out.
 */
export interface EventFeed {
  /**
   * A run got its first local subscriber. Resolves once the feed knows where the run's log stands, so that
   * every event committed after that reaches the bus; a subscriber reads its replay or snapshot after it.
   */
  follow(runId: string): Promise<void>;
  /** The run's last local subscriber left. */
  unfollow(runId: string): void;
  /** The bus got an event past a gap; it holds it until the feed delivers the run's events from `fromSeq`. */
  fillGap(runId: string, fromSeq: number): void;
}

/** A run with local subscribers: who they are, and the highest seq handed to them (the cursor). */
interface Channel {
  listeners: Set<RunEventListener>;
  cursor: number | undefined;
  /** Events past a gap, waiting for the gap to fill (only with a feed). */
  held: Map<number, RunEvent>;
  following: Promise<void> | undefined;
  /** Opened for the all-runs listeners only, when a feed reported the run. */
  forAll: boolean;
  finished: boolean;
}

const MAX_HELD = 10_000;
const MAX_ALL_RUNS_CHANNELS = 10_000;
const resolved = Promise.resolve();

/**
 * Fan-out of run events to this process's SSE streams and WebSocket clients. `publish` takes the events this
 * replica persisted, `deliver` those a feed brought from other replicas; subscribers cannot tell them apart.
 * For every run with subscribers the bus keeps a cursor, so each subscriber gets each event once, in seq
 * order, with no gap: duplicates are dropped, and an event past a gap waits until the feed fills the gap.
 * Each event is wrapped once in a SharedEvent, whose wire forms every subscriber shares.
 */
export class EventBus {
  readonly #channels = new Map<string, Channel>();
  readonly #all = new Set<RunEventListener>();
  readonly #changes = new Set<RunChangeListener>();
  readonly #written = new Set<WrittenListener>();
  /** The event being handed to the written listeners, and the run as it left it. */
  #writing: { event: RunEvent; run: Readonly<Run> } | undefined;
  #feed: EventFeed | undefined;

  /** Connects the feed of other replicas' events (one per bus). Runs already subscribed are followed now. */
  attachFeed(feed: EventFeed): void {
    this.#feed = feed;
    for (const [runId, channel] of this.#channels) {
      if (!channel.forAll) channel.following = this.#follow(runId);
    }
  }

  detachFeed(): void {
    this.#feed = undefined;
  }

  subscribe(runId: string, listener: RunEventListener): () => void {
    let channel = this.#channels.get(runId);
    if (!channel || channel.forAll) {
      channel ??= this.#open(runId, false);
      channel.forAll = false;
      if (this.#feed) channel.following = this.#follow(runId);
    }
    channel.listeners.add(listener);
    const current = channel;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size > 0 || this.#channels.get(runId) !== current) return;
      this.#channels.delete(runId);
      this.#feed?.unfollow(runId);
    };
  }

  /** Resolves once every event of the run committed from now on will reach its subscribers. */
  ready(runId: string): Promise<void> {
    return this.#channels.get(runId)?.following ?? resolved;
  }

  /** Every event of every run. With a feed, runs of other replicas are included from their next notice on. */
  subscribeAll(listener: RunEventListener): () => void {
    this.#all.add(listener);
    return () => {
      this.#all.delete(listener);
      if (this.#all.size > 0) return;
      for (const [runId, channel] of this.#channels) if (channel.forAll) this.#channels.delete(runId);
    };
  }

  /** Just the id of each run that changed, here or (as soon as a feed hears of it) on another replica. */
  watchChanges(listener: RunChangeListener): () => void {
    this.#changes.add(listener);
    return () => this.#changes.delete(listener);
  }

  /** The events this replica persists, before fan-out (the relay announces them to other replicas). */
  onWritten(listener: WrittenListener): () => void {
    this.#written.add(listener);
    return () => this.#written.delete(listener);
  }

  /**
   * An event this replica has just persisted; `run`, when the writer holds it, is the run as the event left
   * it (as stored), so written listeners need not read it back.
   */
  publish(event: RunEvent, run?: Readonly<Run>): void {
    if (this.#written.size > 0) {
      const outer = this.#writing;
      this.#writing = run ? { event, run } : undefined;
      try {
        for (const listener of this.#written) listener(event, run);
      } finally {
        this.#writing = outer;
      }
    }
    this.#accept(event);
  }

  /**
   * While written listeners hear an event: a copy of the run as that event left it, if the writer passed
   * it; else undefined (read the store). Lets a listener written against a run store skip the read back.
   */
  writtenRun(runId: string): Run | undefined {
    const writing = this.#writing;
    return writing && writing.event.runId === runId ? { ...writing.run } : undefined;
  }

  /** An event another replica persisted, read back from the shared log by the feed. */
  deliver(event: RunEvent): void {
    this.#accept(event);
  }

  /** The feed heard that a run changed: invalidate caches now; the events themselves follow. */
  changed(runId: string): void {
    for (const listener of this.#changes) listener(runId);
  }

  /** The highest seq handed to the run's subscribers; undefined when the run has none or none was seen. */
  cursorOf(runId: string): number | undefined {
    return this.#channels.get(runId)?.cursor;
  }

  /** Sets the cursor of a run nobody has delivered anything for yet (the feed, once it read the log). */
  startAt(runId: string, seq: number): void {
    const channel = this.#channels.get(runId);
    if (!channel || (channel.cursor !== undefined && channel.cursor >= seq)) return;
    // Events up to `seq` were committed before the subscribers read their replay: they have them.
    channel.cursor = seq;
    this.#drainHeld(channel);
  }

  /** The feed reported a run that has no channel: all-runs listeners see its events from after `afterSeq`. */
  startForAll(runId: string, afterSeq: number): boolean {
    if (this.#all.size === 0 || this.#channels.has(runId)) return false;
    this.#openForAll(runId).cursor = afterSeq;
    return true;
  }

  /** Whether the run has a channel (local subscribers, or all-runs listeners following it). */
  isFollowed(runId: string): boolean {
    return this.#channels.has(runId);
  }

  /** How much the bus holds: runs with a channel, their listeners, the all-runs listeners (for metrics). */
  stats(): { runs: number; listeners: number; allListeners: number } {
    let listeners = 0;
    for (const channel of this.#channels.values()) listeners += channel.listeners.size;
    return { runs: this.#channels.size, listeners, allListeners: this.#all.size };
  }

  /** Runs the feed must watch: subscribed here and not finished, with their cursors. */
  *followed(): IterableIterator<[runId: string, cursor: number | undefined]> {
    for (const [runId, channel] of this.#channels) if (!channel.finished) yield [runId, channel.cursor];
  }

  #open(runId: string, forAll: boolean): Channel {
    const channel: Channel = {
      listeners: new Set(),
      cursor: undefined,
      held: new Map(),
      following: undefined,
      forAll,
      finished: false,
    };
    this.#channels.set(runId, channel);
    return channel;
  }

  #openForAll(runId: string): Channel {
    if (this.#channels.size >= MAX_ALL_RUNS_CHANNELS) this.#dropOldestForAll();
    return this.#open(runId, true);
  }

  #follow(runId: string): Promise<void> {
    // A feed that cannot read the log now still polls later; the subscriber must not wait forever.
    return (this.#feed as EventFeed).follow(runId).catch(() => undefined);
  }

  #dropOldestForAll(): void {
    for (const [runId, channel] of this.#channels) {
      if (channel.forAll) {
        this.#channels.delete(runId);
        return;
      }
    }
  }

  #accept(event: RunEvent): void {
    for (const listener of this.#changes) listener(event.runId);
    let channel = this.#channels.get(event.runId);
    if (!channel) {
      if (this.#all.size === 0) return;
      // Alone, this replica's events reach the all-runs listeners in order. With a feed, the same run may
      // also arrive from the log (after a notice), so it gets a cursor like any followed run.
      if (!this.#feed) {
        this.#fanOut(undefined, new SharedEvent(event));
        return;
      }
      channel = this.#openForAll(event.runId);
    }
    const { cursor } = channel;
    if (cursor !== undefined && event.seq <= cursor) return;
    if (cursor !== undefined && event.seq > cursor + 1 && this.#feed) {
      if (channel.held.size < MAX_HELD) channel.held.set(event.seq, event);
      this.#feed.fillGap(event.runId, cursor + 1);
      return;
    }
    this.#advance(channel, event);
    this.#drainHeld(channel);
  }

  #drainHeld(channel: Channel): void {
    if (channel.held.size === 0 || channel.cursor === undefined) return;
    for (let next = channel.held.get(channel.cursor + 1); next; next = channel.held.get(channel.cursor + 1)) {
      channel.held.delete(next.seq);
      this.#advance(channel, next);
    }
    for (const seq of channel.held.keys()) if (seq <= channel.cursor) channel.held.delete(seq);
  }

  #advance(channel: Channel, event: RunEvent): void {
    channel.cursor = event.seq;
    const shared = new SharedEvent(event);
    if (shared.terminal) channel.finished = true;
    this.#fanOut(channel, shared);
    if (shared.terminal && channel.forAll && this.#channels.get(event.runId) === channel) {
      this.#channels.delete(event.runId);
    }
  }

  #fanOut(channel: Channel | undefined, shared: SharedEvent): void {
    if (channel) for (const listener of channel.listeners) listener(shared);
    for (const listener of this.#all) listener(shared);
  }
}
