/**
 * How often each name occurs, counted with at most `capacity` counters (the Misra–Gries summary):
 * exact while no more than `capacity` distinct names have been seen. Beyond that, a new name
 * takes one from every counter (those at zero are dropped), so memory stays bounded: every name
 * seen more than total/(capacity+1) times is still there, its count short by at most `shortBy`.
 */
export class BoundedCounts {
  private readonly counts = new Map<string, number>();
  private taken = 0;

  constructor(private readonly capacity: number) {}

  add(name: string): void {
    const count = this.counts.get(name);
    if (count !== undefined) this.counts.set(name, count + 1);
    else if (this.counts.size < this.capacity) this.counts.set(name, 1);
    else {
      // Amortised O(1): each round removes at least as many counts as were ever added.
      this.taken += 1;
      for (const [key, value] of this.counts) {
        if (value === 1) this.counts.delete(key);
        else this.counts.set(key, value - 1);
      }
    }
  }

  /** How much any count may fall short of the true one: 0 while the counts are exact. */
  get shortBy(): number {
    return this.taken;
  }

  /** Every counted name with its count, most frequent first (then by name). */
  sorted(): { name: string; count: number }[] {
    return [...this.counts]
      .map(([name, count]) => ({ name, count }))
      .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
