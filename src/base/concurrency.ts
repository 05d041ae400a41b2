/**
 * Results of `fetch` for each item, in the items' order, with up to `concurrency` fetches running
 * ahead of the consumer. Items that must not be fetched ahead (large objects, which stream) are
 * started only when they reach the front. Memory is bounded by what the prefetched items hold.
 */
export async function* fetchAhead<T, R>(
  items: AsyncIterable<T>,
  fetch: (item: T) => Promise<R>,
  options: { concurrency: number; mayPrefetch(item: T): boolean },
): AsyncGenerator<R> {
  const iterator = items[Symbol.asyncIterator]();
  const window: { item: T; result?: Promise<R> }[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && window.length < options.concurrency) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const result = options.mayPrefetch(next.value) ? fetch(next.value) : undefined;
        result?.catch(() => undefined); // observed when its turn comes
        window.push({ item: next.value, result });
      }
      const head = window.shift();
      if (!head) return;
      yield await (head.result ?? fetch(head.item));
    }
  } finally {
    await iterator.return?.();
  }
}

/**
 * Runs tasks in the background with a bound on how many and how many bytes are in flight;
 * `add` waits for room. The first failure stops new work: `add` and `drain` then throw it.
 */
export class BoundedTasks {
  private readonly running = new Set<Promise<void>>();
  private bytes = 0;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly maxTasks: number,
    private readonly maxBytes: number,
  ) {}

  async add(bytes: number, task: () => Promise<void>): Promise<void> {
    while (this.running.size > 0 && (this.running.size >= this.maxTasks || this.bytes + bytes > this.maxBytes)) {
      await Promise.race(this.running);
    }
    this.throwIfFailed();
    this.bytes += bytes;
    const running: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.bytes -= bytes;
        this.running.delete(running);
      });
    this.running.add(running);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
