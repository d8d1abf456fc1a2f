import { InterruptedError } from '../types';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Which models the test loader holds in memory. Loading a model that is not warm takes `loadMs`
 * (checked for interrupts every 50 ms); a warm one is instant. The `capacity` most recently used stay
 * warm, like a GPU that fits one or two checkpoints.
 */
export class ModelStore {
  private warm: string[] = [];
  loads = 0;

  constructor(
    readonly loadMs: number,
    readonly capacity: number,
  ) {}

  /** Warm models, most recently used last. */
  get loaded(): readonly string[] {
    return this.warm;
  }

  isWarm(name: string): boolean {
    return this.warm.includes(name);
  }

  /** Returns true when the model had to be loaded (it was cold). */
  async load(name: string, isInterrupted: () => boolean): Promise<boolean> {
    const cold = !this.isWarm(name);
    if (cold) {
      for (let waited = 0; waited < this.loadMs; waited += 50) {
        if (isInterrupted()) throw new InterruptedError('Processing interrupted');
        await sleep(Math.min(50, this.loadMs - waited));
      }
      this.loads++;
    }
    this.warm = [...this.warm.filter((m) => m !== name), name].slice(-Math.max(1, this.capacity));
    if (this.capacity === 0) this.warm = [];
    return cold;
  }
}
