/**
 * Serialises async work per key (e.g. writes to one path) within this process. Readers do not take the key: they
 * wait, with {@link KeyedMutex.idle}, for the work already queued when they arrive.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();
  private started = 0;

  /** Runs fn after every earlier fn of the same key has settled. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(
      () => {
        this.started++;
        return fn();
      },
      () => {
        this.started++;
        return fn();
      },
    );
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Resolves once every fn of `key` queued before this call has settled (never rejects). */
  async idle(key: string): Promise<void> {
    await this.tails.get(key);
  }

  /** Whether work of `key` is running or queued. */
  isBusy(key: string): boolean {
    return this.tails.has(key);
  }

  /** How many fns have started so far, over all keys: a change tells a reader that some work ran meanwhile. */
  get startedCount(): number {
    return this.started;
  }
}
