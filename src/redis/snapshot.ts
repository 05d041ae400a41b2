import { delay } from '../base/concurrency.js';
import { RuntimeError } from '../base/errors.js';
import type { RedisCli } from './cli.js';

/** How long a BGSAVE (or an AOF rewrite running before it) may take. */
const SNAPSHOT_TIMEOUT_MS = 30 * 60_000;

/** BGSAVE, then wait until that save (not an earlier one) has finished and succeeded. */
export async function freshSnapshot(cli: RedisCli, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + SNAPSHOT_TIMEOUT_MS;
  await waitWhile(cli, signal, deadline, (info) => info.aof_rewrite_in_progress === '1' || info.rdb_bgsave_in_progress === '1');
  const before = await cli.persistence();
  const lastSave = before.rdb_last_save_time;
  if (before.rdb_saves === undefined) await delay(1100); // older Redis: LASTSAVE has one-second resolution
  await cli.run('BGSAVE');
  const after = await waitWhile(cli, signal, deadline, (info) => {
    if (info.rdb_bgsave_in_progress === '1') return true;
    return info.rdb_saves !== undefined ? info.rdb_saves === before.rdb_saves : info.rdb_last_save_time === lastSave;
  });
  if (after.rdb_last_bgsave_status !== 'ok') {
    throw new RuntimeError(`BGSAVE failed in ${cli.container} (rdb_last_bgsave_status:${after.rdb_last_bgsave_status}).`, {
      hint: 'Check the Redis log for the reason (disk full, permissions).',
    });
  }
}

/** Waits until no AOF rewrite runs (a copy of the AOF folder must not overlap one); returns INFO persistence then. */
export function noRewriteRunning(cli: RedisCli, signal: AbortSignal): Promise<Record<string, string>> {
  return waitWhile(cli, signal, Date.now() + SNAPSHOT_TIMEOUT_MS, (info) => info.aof_rewrite_in_progress === '1');
}

async function waitWhile(
  cli: RedisCli,
  signal: AbortSignal,
  deadline: number,
  busy: (info: Record<string, string>) => boolean,
): Promise<Record<string, string>> {
  for (;;) {
    signal.throwIfAborted();
    const info = await cli.persistence();
    if (!busy(info)) return info;
    if (Date.now() > deadline) throw new RuntimeError(`Redis in ${cli.container} stayed busy saving for too long.`);
    await delay(100);
  }
}
