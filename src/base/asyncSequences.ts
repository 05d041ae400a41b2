/** An async sequence that can be looked into one item ahead and consumed in runs. */
export class Lookahead<T> {
  private readonly iterator: AsyncIterator<T>;
  private held: IteratorResult<T> | undefined;

  constructor(items: AsyncIterable<T>) {
    this.iterator = items[Symbol.asyncIterator]();
  }

  async peek(): Promise<T | undefined> {
    this.held ??= await this.iterator.next();
    return this.held.done ? undefined : this.held.value;
  }

  async *takeWhile(belongs: (item: T) => boolean): AsyncGenerator<T> {
    for (let next = await this.peek(); next !== undefined && belongs(next); next = await this.peek()) {
      this.held = undefined;
      yield next;
    }
  }
}

export async function* mapItems<T, R>(items: AsyncIterable<T> | Iterable<T>, map: (item: T) => R): AsyncGenerator<R> {
  for await (const item of items) yield map(item);
}

/**
 * One read of `source` shared by `count` consumers, in step: the next item is pulled only once
 * every consumer still reading has taken the current one, so at most one item is held whatever
 * the sequence's length. A consumer that stops early (returns or throws) no longer holds the
 * others back; the source is let go when the last one stops. A failure of the source reaches
 * every consumer still reading.
 */
export function shareSequence<T>(source: AsyncIterable<T>, count: number): AsyncIterable<T>[] {
  const iterator = source[Symbol.asyncIterator]();
  const taken = new Array<number>(count).fill(0);
  const reading = new Set(taken.keys());
  let pulled = -1;
  let current: Promise<IteratorResult<T>> | undefined;
  let waiting: (() => void)[] = [];
  const wake = () => {
    const woken = waiting;
    waiting = [];
    for (const resolve of woken) resolve();
  };
  const next = async (consumer: number): Promise<IteratorResult<T>> => {
    const wanted = taken[consumer];
    while (wanted > pulled) {
      if (wanted === pulled + 1 && [...reading].every((other) => taken[other] > pulled)) {
        pulled = wanted;
        current = iterator.next();
        wake();
        break;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    const result = await current!;
    if (!result.done) {
      taken[consumer] += 1;
      wake();
    }
    return result;
  };
  const stop = async (consumer: number): Promise<IteratorResult<T>> => {
    if (reading.delete(consumer)) {
      wake();
      if (reading.size === 0) await iterator.return?.();
    }
    return { done: true, value: undefined };
  };
  return [...taken.keys()].map((consumer) => ({
    [Symbol.asyncIterator]: () => ({
      next: () => (reading.has(consumer) ? next(consumer) : Promise.resolve({ done: true, value: undefined })),
      return: () => stop(consumer),
    }),
  }));
}

/** The bytes of `source` after its first `count`. */
export async function* withoutFirstBytes(source: AsyncIterable<Buffer>, count: number): AsyncGenerator<Buffer> {
  let left = count;
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/** The items of `items` that `keep` accepts. */
export async function* filterItems<T>(items: AsyncIterable<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of items) if (keep(item)) yield item;
}
