/**
 * Work that must not be cut short once begun — a container stopped for a restore must be
 * started again. While any is running, an interrupt waits for it instead of exiting.
 */
const running = new Set<string>();

export async function critical<T>(description: string, work: () => Promise<T>): Promise<T> {
  running.add(description);
  try {
    return await work();
  } finally {
    running.delete(description);
  }
}

export function criticalWork(): readonly string[] {
  return [...running];
}
