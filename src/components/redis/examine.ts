import type { ArchiveReport, ExamineContext } from '../../core/component.js';
import { smallFileList } from '../../archive/smallFileList.js';
import { formatBytes, plural, withoutFinalPeriod } from '../../base/format.js';
import { RDB_ENTRY } from '../../redis/archivedRdb.js';
import { aofManifestFiles, checkRdb } from '../../redis/rdb.js';
import { surveyRdb } from '../../redis/rdbSurvey.js';
import { databaseLine, KeyPrefixes } from './keyPrefixes.js';
import type { RdbCheck } from '../../redis/rdbChecker.js';
import { AOF_FOLDER, backupLayout, LAYOUT_ENTRY } from './files.js';

/** An AOF manifest names a few files per line; anything this big is not one. */
const MAX_AOF_MANIFEST_BYTES = 1 << 20;

/** The archived RDB and AOF files checked as deeply as their formats allow, without a server. */
export async function examineRedis({ source }: ExamineContext): Promise<ArchiveReport> {
  const layout = await backupLayout(source);
  const problems: string[] = [];
  // A backup through REDIS_URL has no layout: the server's files were never seen.
  const online = (source.details as { transport?: string } | undefined)?.transport === 'replication';
  if (!layout && !online) problems.push(`redis/${LAYOUT_ENTRY} is missing or unreadable`);
  const checks = new Map<string, RdbCheck>();
  let aofManifest: string | undefined;
  const prefixes = new KeyPrefixes();
  let walked: { keysPerDb: ReadonlyMap<number, number>; stopped?: Error } | undefined;
  for await (const entry of source.entries()) {
    if (entry.path === RDB_ENTRY) {
      // The same pass counts each database's keys and their prefixes: what `restore --keys` can pick.
      const survey = await surveyRdb(
        { size: entry.size, [Symbol.asyncIterator]: () => entry.content[Symbol.asyncIterator]() },
        undefined,
        (key) => prefixes.add(key.db, key.key!),
      );
      checks.set(entry.path, survey.check);
      walked = { keysPerDb: survey.keysPerDb, stopped: survey.damaged ?? survey.unwalkable };
    } else if (/\.base\.rdb$/.test(entry.path)) {
      checks.set(entry.path, await checkRdb(entry.content, entry.size));
    } else if (entry.path.startsWith(`${AOF_FOLDER}/`) && entry.path.endsWith('.manifest')) {
      if (entry.size > MAX_AOF_MANIFEST_BYTES) {
        problems.push(`redis/${entry.path} is ${entry.size} bytes, not an AOF manifest (damaged or hostile archive)`);
        entry.content.resume();
        continue;
      }
      aofManifest = Buffer.concat((await entry.content.toArray()) as Buffer[]).toString('utf8');
    }
  }
  for (const [path, check] of checks) problems.push(...check.problems.map((problem) => `redis/${path}: ${problem}`));
  if (!checks.has(RDB_ENTRY)) problems.push(`redis/${RDB_ENTRY} is missing`);
  const files = await smallFileList(source, 'redis');
  const aofFiles = files.filter((file) => file.path.startsWith(`${AOF_FOLDER}/`));
  if (aofFiles.length > 0) {
    if (aofManifest === undefined) problems.push(`redis/${AOF_FOLDER}/ has no AOF manifest`);
    for (const named of aofManifestFiles(aofManifest ?? '')) {
      if (!aofFiles.some((file) => file.path === `${AOF_FOLDER}/${named.name}`)) {
        problems.push(`the AOF manifest names ${named.name}, which is not in the archive`);
      }
    }
  }
  const rdb = files.find((file) => file.path === RDB_ENTRY);
  const rdbCheck = checks.get(RDB_ENTRY);
  const lines = [
    layout
      ? `layout: dir=${layout.dir} dbfilename=${layout.dbfilename} appenddirname=${layout.appenddirname} appendonly=${layout.appendonly ? 'yes' : 'no'}`
      : 'layout: unknown',
    `${RDB_ENTRY} ${formatBytes(rdb?.size ?? 0)} (RDB version ${rdbCheck?.version ?? '?'}, checksum ${rdbCheck?.checksum ?? 'unchecked'})`,
    aofFiles.length > 0
      ? `${AOF_FOLDER}/: ${plural(aofFiles.length, 'file')}, ${formatBytes(aofFiles.reduce((total, file) => total + file.size, 0))}`
      : 'no AOF files',
  ];
  const databases = walked ? prefixes.databases(walked.keysPerDb) : undefined;
  for (const database of databases ?? []) lines.push(databaseLine(database, prefixes.approximate));
  if (walked?.stopped)
    lines.push(`the key walk stopped early (${withoutFinalPeriod(walked.stopped.message)}): keys after it are not counted`);
  const facts = {
    layout,
    rdb: rdb ? { size: rdb.size, version: rdbCheck?.version, checksum: rdbCheck?.checksum } : undefined,
    aofFiles: aofFiles.map(({ path, size }) => ({ path, size })),
    keys: (source.details as { keys?: number } | undefined)?.keys,
    databases,
    prefixesApproximate: databases ? prefixes.approximate : undefined,
    keysCountedWhole: walked ? !walked.stopped : undefined,
  };
  return { facts, lines, problems };
}
