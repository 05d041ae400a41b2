import { critical } from '../../base/criticalSection.js';
import { AbortedError, PreconditionError, RuntimeError, UsageError } from '../../base/errors.js';
import { plural, withoutFinalPeriod } from '../../base/format.js';
import type { RestoreSelection, RestoreSelector, SelectionImpact } from '../../core/component.js';
import type { NamespaceSummary } from '../../mongo/archive.js';
import type { MongoCollections } from '../../mongo/collections.js';
import { exactNamespace, isValidDatabaseName } from '../../mongo/remap.js';
import { selectorGlob } from '../../base/globMatch.js';
import type { IndexedFile } from '../../archive/fileIndex.js';
import { isDumpPart } from '../../mongo/archivedDump.js';
import { ownerCollection } from './putBack.js';

/**
 * MongoDB's restore selectors: `--ns` picks collections of the archive's database by name or
 * glob, `--to-database` restores into another database, beside the live one.
 */
export const MONGO_SELECTORS: readonly RestoreSelector[] = [
  {
    flag: 'ns',
    value: 'NAME|GLOB',
    repeatable: true,
    help: "only these collections: db.collection or a collection of the archive's database, or a glob ('audit_*')",
  },
  {
    flag: 'to-database',
    value: 'NAME',
    repeatable: false,
    beside: true,
    help: 'restore into database NAME (all of it without --ns); the live database is not touched',
  },
];

/** Databases a restore beside may never write into: the server's own. */
const SERVER_DATABASES = new Set(['admin', 'local', 'config']);

/** What `--ns` and `--to-database` ask. */
export interface MongoSelection {
  /** The --ns patterns; empty: every collection of the archive's database. */
  readonly patterns: readonly string[];
  readonly toDatabase?: string;
}

/** The selection given to MongoDB, its values checked (exit 2 before anything else is read). */
export function mongoSelection(selection: RestoreSelection | undefined): MongoSelection | undefined {
  if (selection === undefined) return undefined;
  const patterns = selection.flags.ns ?? [];
  if (patterns.some((pattern) => pattern.trim() === '')) {
    throw new UsageError('--ns needs a collection name or glob, not an empty value.', {
      hint: "Example: --ns users or --ns 'orkestra.audit_*'.",
    });
  }
  const toDatabase = selection.flags['to-database']?.[0];
  if (toDatabase !== undefined && (!isValidDatabaseName(toDatabase) || SERVER_DATABASES.has(toDatabase))) {
    throw new UsageError(`--to-database ${JSON.stringify(toDatabase)} is not a database a restore can write into.`, {
      hint: 'Name a database of your own: no spaces, dots, slashes, quotes or $, under 64 bytes, not admin, local or config. Nothing was touched.',
    });
  }
  return { patterns, toDatabase };
}

/** The live database may not be the one a restore beside writes into. */
export function checkBeside(toDatabase: string, liveDatabase: string): void {
  if (toDatabase !== liveDatabase) return;
  throw new UsageError(`--to-database ${toDatabase} is the live database (MONGO_DATABASE): a restore beside never writes into it.`, {
    hint: 'Name another database, or leave --to-database out to restore in place. Nothing was touched.',
  });
}

/** Whether a namespace of the archive is one of the chosen collections (`owners`, buckets with theirs) of `sourceDb`. */
export function collectionsTaken(sourceDb: string, owners: readonly string[]): (db: string, collection: string) => boolean {
  const chosen = new Set(owners);
  return (db, collection) => db === sourceDb && chosen.has(ownerCollection(collection));
}

/**
 * The archive files a restore of the collections `takes` reads: everything but the dump's parts
 * of other collections (the prelude, and a part that does not say whose it is, are read).
 */
export function dumpPartsTaken(takes: (db: string, collection: string) => boolean): (file: IndexedFile) => boolean {
  return (file) => {
    if (!isDumpPart(file.path)) return true;
    const namespace = file.details?.namespace;
    const dot = typeof namespace === 'string' ? namespace.indexOf('.') : -1; // a database name holds no dot
    return dot <= 0 || takes((namespace as string).slice(0, dot), (namespace as string).slice(dot + 1));
  };
}

/**
 * What a restore of `selection` reads (Component.selectionReads), decided before the archive's
 * database is known: a pattern without a database matches the collection in any, which can only
 * read more than the restore takes, never less.
 */
export function selectionReads(selection: RestoreSelection): (file: IndexedFile) => boolean {
  const patterns = mongoSelection(selection)?.patterns ?? [];
  if (patterns.length === 0) return () => true;
  const matchers = patterns.map((pattern) => {
    const dot = pattern.indexOf('.');
    const collection = selectorGlob(dot < 0 ? pattern : pattern.slice(dot + 1));
    const database = dot < 0 ? () => true : selectorGlob(pattern.slice(0, dot));
    return (db: string, name: string) => database(db) && collection(ownerCollection(name));
  });
  return dumpPartsTaken((db, name) => matchers.some((matches) => matches(db, name)));
}

/** The collections a selection takes from the archive, by owner (a time-series collection with its buckets). */
export interface ChosenCollections {
  /** Owner collection names, in the order the archive holds them. */
  readonly owners: readonly string[];
  /** The archive's namespaces they take, buckets included. */
  readonly namespaces: readonly NamespaceSummary[];
  /** `--nsInclude` for each, as mongorestore reads them. */
  readonly includes: readonly string[];
  /** Per --ns pattern, the owners it matched. */
  readonly byPattern: ReadonlyMap<string, readonly string[]>;
}

/**
 * Matches the --ns patterns against the collections of the archive's database `sourceDb`.
 * A pattern with a dot is `database.collection` (split at the first dot: `orkestra.audit.2024`
 * is collection `audit.2024`); without one, a collection of `sourceDb`. Globs are picomatch's.
 * A pattern that matches nothing is refused (exit 2), naming it.
 */
export function chooseCollections(
  namespaces: readonly NamespaceSummary[],
  selection: MongoSelection,
  sourceDb: string,
  archiveName: string,
): ChosenCollections {
  const candidates = namespaces.filter((namespace) => namespace.db === sourceDb);
  const owners = [...new Set(candidates.map((namespace) => ownerCollection(namespace.collection)))];
  const byPattern = new Map<string, string[]>();
  for (const pattern of selection.patterns) {
    const dot = pattern.indexOf('.');
    const [database, collection] = dot < 0 ? [sourceDb, pattern] : [pattern.slice(0, dot), pattern.slice(dot + 1)];
    const matches = selectorGlob(collection);
    const matched = selectorGlob(database)(sourceDb) ? owners.filter((owner) => matches(owner)) : [];
    if (matched.length === 0) {
      throw new UsageError(`--ns ${pattern} matches no collection of mongodb in ${archiveName}.`, {
        hint: `Name a collection as the archive holds it — ${sourceDb}.<collection>, or <collection> alone (orkestra-backup inspect ${archiveName} lists them). Nothing was touched.`,
      });
    }
    byPattern.set(pattern, matched);
  }
  const chosen = selection.patterns.length === 0 ? new Set(owners) : new Set([...byPattern.values()].flat());
  const taken = candidates.filter((namespace) => chosen.has(ownerCollection(namespace.collection)));
  return {
    owners: owners.filter((owner) => chosen.has(owner)),
    namespaces: taken,
    includes: taken.map((namespace) => `--nsInclude=${exactNamespace(`${namespace.db}.${namespace.collection}`)}`),
    byPattern,
  };
}

/** What the dry run and the gate say of a selection: per collection, documents in the archive and now. */
export interface SelectionPlan {
  readonly lines: string[];
  readonly impact: SelectionImpact;
  /** The chosen collections the target database holds now (dropped and restored). */
  readonly existing: readonly string[];
}

/**
 * Counts, per chosen collection, the documents the archive holds and those the target database
 * holds now (through the driver or the container's shell). Beside, a target database that holds
 * any of them already is refused: a restore beside never drops anything.
 */
export async function planSelection(
  chosen: ChosenCollections,
  selection: MongoSelection,
  target: { readonly database: string; readonly live: string },
  collections: MongoCollections,
  signal: AbortSignal,
): Promise<SelectionPlan> {
  const inArchive = new Map<string, number>();
  for (const namespace of chosen.namespaces) {
    const owner = ownerCollection(namespace.collection);
    inArchive.set(owner, (inArchive.get(owner) ?? 0) + namespace.documents);
  }
  const now = await countNow(collections, target.database, chosen.owners, signal);
  const existing = now instanceof Error ? [] : chosen.owners.filter((owner) => now.counts.has(owner));
  if (selection.toDatabase !== undefined) {
    if (now instanceof Error) {
      throw new PreconditionError(
        `--to-database ${target.database}: could not check that it holds none of the collections to restore: ${withoutFinalPeriod(now.message)}.`,
        {
          hint: 'A restore beside never drops anything; it needs to list the database first. Nothing was touched.',
        },
      );
    }
    if (existing.length > 0) {
      throw new PreconditionError(
        `--to-database ${target.database} already holds ${existing.join(', ')}: a restore beside never drops or overwrites a collection.`,
        {
          hint: `Drop ${existing.length === 1 ? 'it' : 'them'} there first, or name another database. Nothing was touched.`,
        },
      );
    }
  }
  const describe = (owner: string): string => {
    const archived = `${plural(inArchive.get(owner) ?? 0, 'document')} in the archive`;
    if (now instanceof Error)
      return `${target.database}.${owner}: ${archived}; documents now not counted (${withoutFinalPeriod(now.message)})`;
    const count = now.counts.get(owner);
    return count === undefined
      ? `${target.database}.${owner}: ${archived}; not there now (created)`
      : `${target.database}.${owner}: ${archived}; ${plural(count, 'document')} now (dropped and restored)`;
  };
  const perPattern = [...chosen.byPattern].flatMap(([pattern, owners]) => [
    `--ns ${pattern}: ${plural(owners.length, 'collection')}`,
    ...owners.map((owner) => `  ${describe(owner)}`),
  ]);
  const documents = chosen.owners.reduce((total, owner) => total + (inArchive.get(owner) ?? 0), 0);
  const nowText =
    now instanceof Error
      ? `documents now not counted (${withoutFinalPeriod(now.message)})`
      : `${existing.length} there now holding ${plural(
          existing.reduce((total, owner) => total + (now.counts.get(owner) ?? 0), 0),
          'document',
        )} (dropped and restored), ${chosen.owners.length - existing.length} new`;
  const archived = `${plural(chosen.owners.length, 'collection')} holding ${plural(documents, 'document')} in the archive`;
  // Beside, none of them is there (else refused above): only the archive's side counts.
  const totals = selection.toDatabase === undefined ? `${archived}; ${nowText}` : `${archived}, all new`;
  const others =
    now instanceof Error
      ? []
      : now.names.filter((name) => !name.startsWith('system.') && !chosen.owners.includes(ownerCollection(name))).sort();
  const beside = selection.toDatabase === undefined ? undefined : `database ${target.database}`;
  return {
    // The report heads them with the totals (`impact`).
    lines: [
      ...(beside ? [`beside: into database ${target.database}; the live database ${target.live} is not touched`] : []),
      ...(chosen.byPattern.size > 0 ? perPattern : chosen.owners.map(describe)),
      others.length > 0 && !beside
        ? `${plural(others.length, 'other collection')} of ${target.database} left as ${others.length === 1 ? 'it is' : 'they are'}: ${others.join(', ')}`
        : `no other collection of ${target.database} is touched`,
    ],
    impact: { totals, beside },
    existing,
  };
}

/** The collection names of a database and the documents of the chosen ones there, or why they could not be had. */
async function countNow(
  collections: MongoCollections,
  database: string,
  owners: readonly string[],
  signal: AbortSignal,
): Promise<{ names: string[]; counts: Map<string, number> } | Error> {
  try {
    const names = await collections.list(database, signal);
    const present = owners.filter((owner) => names.includes(owner));
    const counted = await collections.count(database, present, signal);
    return { names, counts: new Map(present.map((owner) => [owner, counted.get(owner) ?? 0])) };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The collections of the live database a narrowed keep leaves out: every one the selection does not restore. */
export async function notKept(
  collections: MongoCollections,
  database: string,
  owners: readonly string[],
  signal: AbortSignal,
): Promise<string[]> {
  const chosen = new Set(owners);
  const names = await collections.list(database, signal).catch((error: Error) => {
    if (signal.aborted) throw error;
    throw new RuntimeError(
      `keeping the selected collections of database ${database} before --drop failed: they could not be told from the others ${collections.how}: ${withoutFinalPeriod(error.message)} — nothing was changed.`,
      { hint: 'Restore without --ns, or with --no-keep-mongodb to skip the keep (the selected collections are then not kept).' },
    );
  });
  return names.filter((name) => !chosen.has(ownerCollection(name))).sort();
}

/**
 * A restore beside that failed: the target database held none of its collections, so every one
 * it began is dropped. Runs to the end even when the operator interrupts.
 */
export async function dropBeside(
  collections: MongoCollections,
  database: string,
  owners: readonly string[],
  why: string,
  interrupted: boolean,
): Promise<never> {
  const Failure = interrupted ? AbortedError : RuntimeError;
  const dropped = await critical(`dropping what the restore began in ${database}`, () =>
    collections.drop(database, owners).then(
      () => undefined,
      (error: Error) => error,
    ),
  );
  if (dropped) {
    throw new Failure(
      `${why} — what it had restored into database ${database} could not be dropped: ${withoutFinalPeriod(dropped.message)}.`,
      {
        hint: `Drop ${owners.join(', ')} of ${database} by hand; the live database was not touched.`,
      },
    );
  }
  throw new Failure(
    `${why} — what it had restored into database ${database} was dropped (${owners.join(', ')}); the live database was not touched.`,
  );
}

/** The archive's namespaces a selective restore leaves out, named when few. */
export function notSelected(namespaces: readonly NamespaceSummary[], restored: readonly NamespaceSummary[]): string {
  const left = namespaces
    .filter((namespace) => !restored.includes(namespace))
    .map((namespace) => `${namespace.db}.${namespace.collection}`);
  if (left.length === 0) return 'every namespace of the archive is restored';
  const named = left.length <= 10 ? `: ${left.join(', ')}` : '';
  return `${plural(left.length, 'namespace')} of the archive not selected, not restored${named}`;
}
