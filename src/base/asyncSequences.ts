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
