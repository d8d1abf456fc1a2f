/** The minimal observable every store shares: the shape `useSyncExternalStore` expects. */
export abstract class Store<T> {
  private readonly listeners = new Set<() => void>();
  protected abstract state: T;

  readonly getSnapshot = (): T => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    this.onSubscribersChanged(this.listeners.size);
    return () => {
      this.listeners.delete(listener);
      this.onSubscribersChanged(this.listeners.size);
    };
  };

  protected get subscriberCount(): number {
    return this.listeners.size;
  }

  protected setState(next: T): void {
    if (Object.is(next, this.state)) return;
    this.state = next;
    for (const listener of [...this.listeners]) listener();
  }

  /** Start or stop work (streams, fetches) as the first subscriber arrives or the last one leaves. */
  protected onSubscribersChanged(_count: number): void {}
}
