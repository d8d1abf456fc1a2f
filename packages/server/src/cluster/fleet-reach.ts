export interface FleetReachOptions {
  replicaId: string;
  /** How often a replica with a connected backend says so; others trust it for three periods. */
  everyMs: number;
  /** Whether this replica has a connected backend now. */
  local(): boolean;
  /** Sends a payload on the control channel, to every replica (this one included). */
  notify(payload: string): Promise<void>;
}

export const REACH = 'reach';
export const UNREACH = 'unreach';

/**
 * Whether any replica can reach a backend: each one watches only the backends it leases, so "none
 * reachable" holds for the fleet only when no replica has one connected. Replicas with one say so on the
 * control channel every `everyMs` (a lost NOTIFY is repeated), and at once when that changes. Soft state,
 * no table: a replica that stops saying it (dead, or its backends down) drops out after three periods.
 * Until it has listened for a while, a replica with live peers does not claim that none is reachable.
 */
export class FleetReach {
  readonly #o: FleetReachOptions;
  readonly #others = new Map<string, number>();
  #startedAt = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #said: boolean | undefined;

  constructor(options: FleetReachOptions) {
    this.#o = options;
  }

  /** `alone`: no other replica is live, so there is no one's word to wait for. */
  start(alone: boolean): void {
    this.#startedAt = alone ? Number.NEGATIVE_INFINITY : Date.now();
    this.#timer = setInterval(() => {
      if (this.#o.local()) this.#say(true);
    }, this.#o.everyMs);
    this.#timer.unref();
    this.changed();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** A backend here connected or went down: tell the others now rather than at the next period. */
  changed(): void {
    const local = this.#o.local();
    if (local !== this.#said) this.#say(local);
  }

  /** A `reach:<replica>` or `unreach:<replica>` heard on the control channel. */
  heard(verb: string, replicaId: string): void {
    if (replicaId === this.#o.replicaId) return;
    if (verb === REACH) this.#others.set(replicaId, Date.now() + 3 * this.#o.everyMs);
    else this.#others.delete(replicaId);
  }

  /** Long enough listening for the others' word to be known (their period, and some). */
  settled(): boolean {
    return Date.now() - this.#startedAt >= 2.5 * this.#o.everyMs;
  }

  /** False only when, as far as this replica knows, no replica has a backend connected. */
  anywhere(): boolean {
    if (!this.settled() || this.#o.local()) return true;
    const now = Date.now();
    for (const [replica, until] of this.#others) {
      if (until > now) return true;
      this.#others.delete(replica);
    }
    return false;
  }

  #say(reachable: boolean): void {
    this.#said = reachable;
    this.#o.notify(`${reachable ? REACH : UNREACH}:${this.#o.replicaId}`).catch(() => undefined);
  }
}
