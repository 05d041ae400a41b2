import { createHash } from 'node:crypto';
import { PreconditionError } from '../base/errors.js';
import { RespError, type RespConnection } from './resp.js';

/** Keys SCAN is asked for per call: through a container's exec relay each call is a round trip, and 780,000 keys took 780 of them at 1,000. */
const SCAN_COUNT = '10000';

/** A key as the sets of keys compare it: its SHA-1, in base64. */
export function digest(key: Buffer): string {
  return createHash('sha1').update(key).digest('base64');
}

/**
 * The keys of database `db` matching any of `globs` now, each once (SCAN MATCH per glob; a key
 * SCAN returns twice, or that two globs match, is given once); `counted` is told each glob a key matched.
 */
export async function* matchingNow(
  connection: RespConnection,
  db: number,
  globs: readonly string[],
  counted: (glob: string) => void,
): AsyncGenerator<{ key: Buffer; id: string }> {
  connection.expectOk(await connection.command('SELECT', String(db)), `SELECT ${db}`);
  const seen = new Set<string>();
  const seenPerGlob = new Set<string>();
  for (const glob of globs) {
    seenPerGlob.clear();
    let cursor = '0';
    do {
      const reply = await connection.command('SCAN', cursor, 'MATCH', glob, 'COUNT', SCAN_COUNT);
      if (reply instanceof RespError || !Array.isArray(reply)) {
        throw new PreconditionError(
          `Redis at ${connection.address.shown} refused SCAN: ${reply instanceof RespError ? reply.message : 'an unexpected answer'}.`,
        );
      }
      cursor = (reply[0] as Buffer).toString('latin1');
      for (const key of reply[1] as Buffer[]) {
        const id = digest(key);
        if (seenPerGlob.has(id)) continue;
        seenPerGlob.add(id);
        counted(glob);
        if (seen.has(id)) continue;
        seen.add(id);
        yield { key, id };
      }
    } while (cursor !== '0');
  }
}

/** The keys of one database matching now: how many per glob, and their digests (each key once). */
export interface LiveKeys {
  readonly perGlob: ReadonlyMap<string, number>;
  readonly ids: ReadonlySet<string>;
}

export async function liveKeys(connection: RespConnection, db: number, globs: readonly string[]): Promise<LiveKeys> {
  const perGlob = new Map<string, number>();
  const ids = new Set<string>();
  for await (const { id } of matchingNow(connection, db, globs, (glob) => perGlob.set(glob, (perGlob.get(glob) ?? 0) + 1))) ids.add(id);
  return { perGlob, ids };
}
