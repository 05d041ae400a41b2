import { statfs } from 'node:fs/promises';
import { relative } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { Component, PlanContext, RestorePlan } from '../../core/component.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { critical } from '../../base/criticalSection.js';
import { AbortedError, OrkestraError, PreconditionError, RuntimeError, UsageError } from '../../base/errors.js';
import { readDetails } from '../../archive/componentDetails.js';
import { formatBytes, plural, withoutFinalPeriod } from '../../base/format.js';
import type { Project } from '../../model/project.js';
import { containerAvailability } from '../../docker/containers.js';
import type { NamespaceSummary } from '../../mongo/archive.js';
import { dumpShape, reportedCounts } from './dumpOutput.js';
import { dumpPartPath, dumpStream, plainDumpStream, readDump, selectedDumpStream } from '../../mongo/archivedDump.js';
import { DumpSplitter } from '../../mongo/dumpParts.js';
import { checkMongoFiles, DATABASE_ENTRY } from './dumpFiles.js';
import { projectMongoTools, type MongoTools } from '../../mongo/tools.js';
import { driverCollections, shellCollections, type MongoCollections } from '../../mongo/collections.js';
import type { Services } from '../../core/services.js';
import { MONGODB_DEFAULT_CONTAINER, resolveAccess } from '../../mongo/projectMongo.js';
import { checkedForKeyDrift } from './keyDrift.js';
import { keepCurrentData, ownerCollection, putBack } from './putBack.js';
import { connectionFailure, lastLines, restoreCounts, toolFailure } from '../../mongo/toolOutput.js';
import { describeExit } from '../../base/processes.js';
import { serverFacts } from '../../mongo/serverFacts.js';
import { mongodbDrill } from './drill.js';
import { databaseGroups, findCollections } from './find.js';
import { pickCollections } from './collectionPicks.js';
import { chosenFromArchive, dumpReadLine, soundDump } from './archivedCounts.js';
import { isValidDatabaseName, namespaceTarget, remapArguments, targetNamespace } from '../../mongo/remap.js';
import {
  checkBeside,
  dropBeside,
  MONGO_SELECTORS,
  notSelected,
  mongoSelection,
  notKept,
  dumpPartsTaken,
  collectionsTaken,
  planSelection,
  selectionReads,
  type SelectionPlan,
} from './selection.js';

const MONGODB = 'mongodb';
const DEFAULT_CONTAINER = MONGODB_DEFAULT_CONTAINER;

const MongoDetailsSchema = z.object({ database: z.string().min(1) });

interface MongoPlan extends RestorePlan {
  readonly container: string;
  readonly sourceDb: string;
  readonly targetDb: string;
  /** Dump the target database before `--drop`, to put it back if the restore fails. */
  readonly keepCurrent: boolean;
  /** The collections of the target database the archive restores: a failed restore may have created them. */
  readonly restoredCollections: readonly string[];
  /** mongorestore's arguments, narrowed to the selection when there is one. */
  readonly args: readonly string[];
  /** A selective restore: the collections it restores (time-series ones with their buckets), and whether beside the live database. */
  readonly picked?: { readonly owners: readonly string[]; readonly beside: boolean };
}

/**
 * MongoDB: `mongodump --db <db> --archive` inside the container, streamed out of the exec and cut
 * into parts by collection (DumpSplitter) into the archive; restored by streaming the parts back
 * into `mongorestore --drop --archive` (only the selected collections' parts for `--ns`), with
 * --nsFrom/--nsTo when the target database has another name. Older archives keep mongodump's
 * `--gzip` output whole (`mongo.archive.gz`), restored with `--gzip`.
 */
export const mongodb: Component<MongoPlan> = {
  name: MONGODB,
  title: 'MongoDB',
  selectors: MONGO_SELECTORS,
  pickSelectors: pickCollections,
  selectionReads,

  async availability({ project, services, signal }) {
    if (project.setting('MONGO_URI') === undefined)
      return containerAvailability(services, project.containerName('mongodb', DEFAULT_CONTAINER));
    try {
      const tools = await projectMongoTools(project, services);
      await tools.run('mongodump', ['--version'], { signal });
      return { available: true, detail: `mongodump and mongorestore ${tools.where}` };
    } catch (error) {
      // A malformed MONGO_URI is bad input (exit 2), not a component that happens to be away.
      if (error instanceof OrkestraError && !(error instanceof UsageError))
        return { available: false, reason: withoutFinalPeriod(error.message) };
      throw error;
    }
  },

  async backup({ project, services, sink, progress, signal }) {
    const tools = await projectMongoTools(project, services);
    await sink.addText(DATABASE_ENTRY, `${tools.database}\n`);
    progress.note(`dumping database ${tools.database} ${tools.where}`);
    const output = new PassThrough({ highWaterMark: 1 << 20 });
    let sequence = 0;
    const splitter = new DumpSplitter((part) =>
      sink.addFile(dumpPartPath(sequence++), part.bytes, Readable.from(part.chunks), {
        details: () => (part.namespace === undefined ? { prelude: true } : { namespace: part.namespace }),
      }),
    );
    // Plain BSON out of mongodump: the archive compresses it, on every core, and a restore of a few collections picks their parts.
    const [added, dumped] = await Promise.allSettled([
      pipeline(output, splitter),
      tools.run('mongodump', [`--db=${tools.database}`, '--archive'], { stdout: output, signal }),
    ]);
    if (dumped.status === 'fulfilled' && dumped.value.exitCode !== 0) throw toolFailure('mongodump', dumped.value, tools);
    if (added.status === 'rejected') throw added.reason;
    if (dumped.status === 'rejected') throw dumped.reason;
    const counts = splitter.counts();
    return {
      details: { database: tools.database },
      summary: `database ${tools.database}${counts ? `, ${plural(counts.length, 'collection')}` : ''}`,
      shape: counts && dumpShape(counts),
    };
  },

  planRestore: (context) => checkedForKeyDrift(context, () => planMongoRestore(context)),

  async restore({ project, services, source, progress, signal, aside }, plan) {
    const tools = await projectMongoTools(project, services);
    const { picked } = plan;
    const collections = plan.keepCurrent || picked ? await collectionsOf(project, services, tools) : undefined;
    // A selective restore keeps only the collections it drops.
    const excluded = picked && plan.keepCurrent && collections ? await notKept(collections, tools.database, picked.owners, signal) : [];
    const kept = plan.keepCurrent ? await keepCurrentData(tools, aside, progress, signal, excluded) : undefined;
    const work = kept && collections && { tools, kept, progress, restored: plan.restoredCollections, collections, only: picked?.owners };
    const undo = work
      ? (why: string, interrupted: boolean) => putBack(work, why, interrupted)
      : picked?.beside && collections
        ? (why: string, interrupted: boolean) => dropBeside(collections, plan.targetDb, picked.owners, why, interrupted)
        : undefined;
    if (plan.sourceDb !== plan.targetDb) progress.note(`remapping database ${plan.sourceDb} → ${plan.targetDb}`);
    // From --drop on, the run ends in the archive's data or the previous data put back. An
    // interrupt cuts mongorestore's input short: it fails and exits by itself, and only then
    // does the put-back touch the server.
    const { args, stdin } = restoreInput(plan, source, (bytes) => progress.advance(bytes), signal);
    const result = await critical('restoring MongoDB (an interrupt puts the previous data back)', () =>
      tools.run('mongorestore', args, { stdin }).catch(async (error: Error) => {
        if (undo) await undo(error.message, signal.aborted);
        throw error;
      }),
    );
    // A run that ended well before the interrupt reached it restored the whole archive: that stands.
    if (result.exitCode !== 0) {
      const failure = (outcome: string) =>
        signal.aborted
          ? new AbortedError(
              `the MongoDB restore was ${interruption(signal)} (mongorestore ${describeExit(result.exitCode, result.signal)})${outcome}`,
            )
          : toolFailure('mongorestore', result, tools, outcome);
      if (undo) await undo(failure('').message, signal.aborted);
      throw failure(
        ` — nothing was kept to put back (--no-keep-mongodb): database ${plan.targetDb} holds what mongorestore had restored by then.`,
      );
    }
    const counts = restoreCounts(result.stderr);
    if (counts && counts.failed > 0) {
      const failure = new RuntimeError(
        `mongorestore restored ${counts.restored} documents but ${counts.failed} failed: ${lastLines(result.stderr)}`,
      );
      if (undo) await undo(failure.message, false);
      throw failure;
    }
    const restored = counts ? `${plural(counts.restored, 'document')} into ${plan.targetDb}` : `database ${plan.targetDb}`;
    return {
      summary: kept ? `${restored}; previous data kept in ${relative(project.dir, kept)}` : restored,
      details: { sourceDb: plan.sourceDb, targetDb: plan.targetDb, container: tools.label, reported: reportedCounts(result.stderr) },
    };
  },

  async examine({ source, setting }) {
    let nameProblem: string | undefined;
    const sourceDb = await sourceDatabase(source).catch((error: Error) => {
      nameProblem = withoutFinalPeriod(error.message.replace(/^[^:]*: /, ''));
      return undefined;
    });
    const targetDb = setting('MONGO_DATABASE') ?? 'orkestra';
    const dump = await readDump(source);
    const problems = dump ? [...dump.problems] : ['mongodb holds no dump (dump/ or mongo.archive.gz)'];
    if (nameProblem) problems.push(nameProblem);
    const namespaces = (dump?.namespaces ?? []).map((namespace) => ({
      namespace: `${namespace.db}.${namespace.collection}`,
      type: namespace.type ?? (namespace.collection.startsWith('system.buckets.') ? 'timeseries buckets' : 'unknown'),
      documents: namespace.documents,
      bytes: namespace.bytes,
      crcMatches: namespace.crcMatches,
      restoredAs: sourceDb ? targetNamespace(namespace.db, namespace.collection, sourceDb, targetDb) : undefined,
    }));
    const remap = sourceDb && sourceDb !== targetDb ? `, remapped to ${targetDb} (MONGO_DATABASE)` : '';
    const lines = [
      `database ${sourceDb ?? '?'}${remap}; dump by mongodump ${dump?.header.toolVersion ?? '?'} of server ${dump?.header.serverVersion ?? '?'}`,
      ...namespaces.map(
        (entry) =>
          `${entry.namespace}  ${entry.type}  ${plural(entry.documents, 'document')}  ${formatBytes(entry.bytes)}` +
          `  → ${entry.restoredAs ?? 'not restored'}`,
      ),
    ];
    return { facts: { database: sourceDb, targetDatabase: targetDb, header: dump?.header, namespaces }, lines, problems };
  },

  find: findCollections,
  groups: databaseGroups,
  drill: mongodbDrill,
};

/**
 * What a mongorestore of the archive would do, checked with --dryRun and the tool's own read of
 * the dump: all of it, or for a selection whose counts the manifest's shape holds, its prelude.
 */
async function planMongoRestore({ project, services, source, signal, selection, manifest }: PlanContext): Promise<MongoPlan> {
  const picked = mongoSelection(selection);
  const layout = await checkMongoFiles(source);
  const sourceDb = await sourceDatabase(source); // the archive is checked before the server is asked
  const { selectedDump, chosen } = await chosenFromArchive(source, manifest.shape?.components[MONGODB], picked, sourceDb, layout);
  const tools = await projectMongoTools(project, services);
  if (picked?.toDatabase !== undefined) checkBeside(picked.toDatabase, tools.database);
  const targetDb = picked?.toDatabase ?? tools.database;
  // A selection is cut out of the dump as plain BSON; an older archive's whole dump goes as it is kept.
  const gzip = layout === 'gzip' && !chosen;
  const args = restoreArguments(sourceDb, targetDb, chosen?.includes, gzip);
  const collections = await collectionsOf(project, services, tools);
  // What the target holds now is asked while mongorestore --dryRun runs: both only read.
  const selecting =
    picked && chosen ? planSelection(chosen, picked, { database: targetDb, live: tools.database }, collections, signal) : undefined;
  // Its verdict comes after the dry run's; its reads end before a failure of the dry run is reported.
  const selectionSettled = selecting?.catch(() => undefined);
  // mongorestore --dryRun reads only the prelude; without recorded counts, the tool's own reader checks every document.
  const [read, dryRun] = await Promise.all([
    selectedDump?.dump ?? readDump(source),
    tools.run('mongorestore', ['--dryRun', ...args], { stdin: gzip ? dumpStream(source) : plainDumpStream(source), signal }),
  ]).catch(async (error: unknown) => {
    await selectionSettled;
    throw error;
  });
  if (dryRun.exitCode !== 0) {
    await selectionSettled;
    throw (
      connectionFailure('mongorestore --dryRun', dryRun, tools) ??
      new PreconditionError(`mongorestore --dryRun rejected the archive: ${lastLines(dryRun.stderr)}`)
    );
  }
  const dump = soundDump(read, source);
  const beside = picked?.toDatabase !== undefined;
  const keepCurrent = keepsCurrentData(project) && !beside;
  const restored = dump.namespaces.filter((namespace) => namespaceTarget(args, `${namespace.db}.${namespace.collection}`));
  const documents = restored.reduce((total, namespace) => total + namespace.documents, 0);
  const narrowed: SelectionPlan | undefined = await selecting;
  // Through MONGO_URI the driver asks what mongorestore cannot: the server's version, what --drop replaces.
  const server = tools.uri ? await serverFacts(tools.uri, targetDb, restored, args, dump.header.serverVersion) : undefined;
  const restoredCollections = collectionsIn(targetDb, restored, args);
  const actions = [
    `mongorestore ${args.join(' ')} ${tools.where} (archive streamed into stdin)`,
    sourceDb === targetDb
      ? `database ${targetDb}: same name as in the backup, no remapping`
      : `remapping database ${sourceDb} → ${targetDb}`,
    ...(narrowed
      ? [...narrowed.lines, notSelected(dump.namespaces, restored)]
      : dump.namespaces.map((namespace) => describeNamespace(namespace, args, sourceDb))),
    dumpReadLine(selectedDump?.from ?? 'dump', dump.namespaces.length, documents),
    ...(server?.lines ?? []),
    ...(narrowed ? [] : [await leftAsTheyAre(collections, targetDb, restoredCollections, signal)]),
    `mongorestore --dryRun connected to MongoDB ${tools.where} and accepted the dump's header and collection metadata` +
      ` (it reads no documents): ${lastLines(dryRun.stderr, 1) || 'ok'}`,
    beside
      ? `--to-database: nothing is dropped, so nothing is kept; if mongorestore fails, the collections it began in ${targetDb} are dropped`
      : keepCurrent
        ? `before --drop, ${narrowed ? `the selected collections of ${targetDb} that exist now are` : `the current database ${targetDb} is`} dumped into docker/.pre-restore-<stamp>/mongodb/ and put back` +
          ` if mongorestore fails (free there now: ${await freeSpace(project.dockerDir)}); --no-keep-mongodb skips this`
        : `--no-keep-mongodb: the current data of ${targetDb} is NOT kept before --drop`,
  ];
  const kept = keepCurrent ? 'current data kept in docker/.pre-restore-<stamp>/mongodb/' : 'current data NOT kept: --no-keep-mongodb';
  const replaced = narrowed
    ? `${plural(narrowed.existing.length, 'collection')} of database ${targetDb}${narrowed.existing.length > 0 ? ` (${narrowed.existing.join(', ')})` : ''}`
    : server
      ? server.replaces
      : `${plural(restored.length, 'collection')} of database ${targetDb}`;
  return {
    actions,
    replaces: beside ? [] : [`MongoDB ${tools.where}: ${replaced} (dropped and restored; ${kept})`],
    warnings: server?.warnings ?? [],
    container: tools.label,
    sourceDb,
    targetDb,
    keepCurrent,
    restoredCollections,
    args,
    picked: chosen && { owners: chosen.owners, beside },
    selection: narrowed?.impact,
  };
}

/** `--nsInclude` scopes the restore to the archive's database, or to the chosen collections of it. */
function restoreArguments(sourceDb: string, targetDb: string, includes: readonly string[] | undefined, gzip: boolean): string[] {
  const remap = remapArguments(sourceDb, targetDb);
  const scope = includes ? [...includes, ...remap.filter((arg) => !arg.startsWith('--nsInclude='))] : remap;
  return ['--drop', '--archive', ...(gzip ? ['--gzip'] : []), ...scope];
}

/**
 * What mongorestore reads: the whole dump, or for a selection only the prelude with the chosen
 * collections' metadata and their segments (time-series buckets with their collection);
 * `--nsInclude` still names them. Progress counts the archived dump's bytes.
 */
function restoreInput(
  plan: MongoPlan,
  source: ComponentSource,
  onBytes: (bytes: number) => void,
  signal: AbortSignal,
): { args: readonly string[]; stdin: Readable } {
  if (!plan.picked) return { args: plan.args, stdin: dumpStream(source, onBytes, signal) };
  const keep = collectionsTaken(plan.sourceDb, plan.picked.owners);
  return { args: plan.args, stdin: selectedDumpStream(source, keep, dumpPartsTaken(keep), onBytes, signal) };
}

/** `--no-keep-mongodb` (or ORKESTRA_KEEP_MONGODB=no) skips the dump of the data --drop replaces. */
function keepsCurrentData(project: Project): boolean {
  return !/^(no|0|false)$/i.test(project.setting('ORKESTRA_KEEP_MONGODB') ?? 'yes');
}

/** The collections of `targetDb` that mongorestore run with `args` restores. */
function collectionsIn(targetDb: string, restored: readonly NamespaceSummary[], args: readonly string[]): string[] {
  const prefix = `${targetDb}.`;
  return restored
    .map((namespace) => namespaceTarget(args, `${namespace.db}.${namespace.collection}`) ?? '')
    .filter((target) => target.startsWith(prefix))
    .map((target) => target.slice(prefix.length));
}

/** What lists and drops the target's collections: the driver through MONGO_URI, else the container's shell. */
async function collectionsOf(project: Project, services: Pick<Services, 'docker'>, tools: MongoTools): Promise<MongoCollections> {
  if (tools.uri) return driverCollections(tools.uri);
  const docker = services.docker();
  return shellCollections(docker, await resolveAccess(project, docker));
}

/** --drop replaces the collections the dump holds and no other: the dry run names those it leaves. */
async function leftAsTheyAre(
  collections: MongoCollections,
  targetDb: string,
  restored: readonly string[],
  signal: AbortSignal,
): Promise<string> {
  const current = await collections.list(targetDb, signal).catch((error: Error) => error);
  if (current instanceof Error) {
    return `--drop leaves the collections of ${targetDb} that the dump lacks as they are; they could not be listed: ${withoutFinalPeriod(current.message)}`;
  }
  const replaced = new Set(restored.map(ownerCollection));
  const left = current.filter((name) => !name.startsWith('system.') && !replaced.has(name)).sort();
  if (left.length === 0) return `--drop leaves no other collection in ${targetDb}: each one it holds now is in the dump`;
  const are = left.length === 1 ? 'is' : 'are';
  return `${plural(left.length, 'collection')} of ${targetDb} absent from the dump ${are} left as ${left.length === 1 ? 'it is' : 'they are'} by --drop (${collections.how}): ${left.join(', ')}`;
}

/** "interrupted by SIGINT", from the signal the abort's reason names. */
function interruption(signal: AbortSignal): string {
  const sent = signal.reason instanceof AbortedError ? signal.reason.signal : undefined;
  return sent ? `interrupted by ${sent}` : 'interrupted';
}

async function freeSpace(folder: string): Promise<string> {
  const info = await statfs(folder).catch(() => undefined);
  return info ? formatBytes(info.bavail * info.bsize) : 'unknown';
}

function describeNamespace(namespace: NamespaceSummary, args: readonly string[], sourceDb: string): string {
  const name = `${namespace.db}.${namespace.collection}`;
  const target = namespaceTarget(args, name);
  const kind = namespace.type ? ` (${namespace.type})` : '';
  if (!target) return `${name}${kind}: not restored (outside database ${sourceDb})`;
  const counted = `${plural(namespace.documents, 'document')}`;
  return target === name
    ? `${name}${kind}: ${counted}, dropped and restored`
    : `${name} → ${target}${kind}: ${counted}, dropped and restored`;
}

async function sourceDatabase(source: ComponentSource): Promise<string> {
  const details = readDetails(MongoDetailsSchema, source, 'mongodb');
  const name = details ? details.database : (await source.readText(DATABASE_ENTRY))?.trim();
  if (!name || !isValidDatabaseName(name)) {
    throw new UsageError(`${source.archiveName}: the source database name (mongodb/${DATABASE_ENTRY}) is missing or invalid.`);
  }
  return name;
}
