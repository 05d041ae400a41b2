import { PreconditionError, UsageError } from '../../base/errors.js';
import { plural } from '../../base/format.js';
import { isValidBucketName } from '../../s3/client/names.js';
import type { ArchivedObject } from '../../s3/rustfs/archivedObjects.js';
import { compareKeys, type ObjectChange } from '../../s3/rustfs/diff.js';
import type { ObjectScope } from '../../s3/rustfs/restoreComparison.js';
import type { RestoreSelection, RestoreSelector, SelectionImpact } from '../../core/component.js';
import type { IndexedFile } from '../../archive/fileIndex.js';

/**
 * The object store's restore selectors: `--objects BUCKET[/PREFIX]` picks the objects of a bucket
 * whose key starts with PREFIX, `--to-bucket BUCKET[/PREFIX]` writes them beside, into another
 * bucket or prefix.
 */
export const OBJECT_SELECTORS: readonly RestoreSelector[] = [
  {
    flag: 'objects',
    value: 'BUCKET[/PREFIX]',
    repeatable: true,
    help: "only the objects of BUCKET whose key starts with PREFIX ('uploads/avatars/'), all of BUCKET without one",
  },
  {
    flag: 'to-bucket',
    value: 'BUCKET[/PREFIX]',
    repeatable: false,
    beside: true,
    help: 'write the selection (all the objects without --objects) into BUCKET, under PREFIX/<bucket>/; the live objects are not touched',
  },
];

/** A bucket and a key prefix ('' for the whole bucket), as `--objects` and `--to-bucket` give them. */
interface BucketPrefix {
  readonly given: string;
  readonly bucket: string;
  readonly prefix: string;
}

type Counts = Record<ObjectChange, number>;

/**
 * What `--objects` and `--to-bucket` pick of the backup and where it goes, counting per selector
 * what the archive holds and what is there now. Objects go to their own bucket and key, or with
 * `--to-bucket B/P` to `B/P/<bucket>/<key>`: the source bucket in the key keeps the objects of
 * several buckets apart.
 */
export class ObjectSelection implements ObjectScope {
  readonly buckets: readonly string[];
  private readonly picks: { readonly pick: BucketPrefix; readonly counts: Counts }[];
  private readonly totals: Counts = { add: 0, overwrite: 0, unchanged: 0 };
  private readonly prefixes = new Map<string, string[]>();

  constructor(
    readonly archived: readonly string[],
    picks: readonly BucketPrefix[],
    readonly to: BucketPrefix | undefined,
  ) {
    this.picks = picks.map((pick) => ({ pick, counts: { add: 0, overwrite: 0, unchanged: 0 } }));
    for (const { bucket, prefix } of picks) this.prefixes.set(bucket, [...(this.prefixes.get(bucket) ?? []), prefix]);
    if (picks.length === 0) for (const bucket of archived) this.prefixes.set(bucket, ['']);
    for (const [bucket, list] of this.prefixes) this.prefixes.set(bucket, outermost(list));
    this.buckets = archived.filter((bucket) => this.prefixes.has(bucket));
  }

  selects(bucket: string, key: string): boolean {
    return (this.prefixes.get(bucket) ?? []).some((prefix) => key.startsWith(prefix));
  }

  targetBucket(bucket: string): string {
    return this.to?.bucket ?? bucket;
  }

  targetKey(bucket: string, key: string): string {
    return this.to === undefined ? key : `${this.to.prefix}${bucket}/${key}`;
  }

  livePrefixes(bucket: string): readonly string[] {
    return this.selectedPrefixes(bucket).map((prefix) => this.targetKey(bucket, prefix));
  }

  /** The key prefixes of `bucket` the selection takes, in its own bucket. */
  selectedPrefixes(bucket: string): readonly string[] {
    return this.prefixes.get(bucket) ?? [];
  }

  counted(object: ArchivedObject, change: ObjectChange): void {
    this.totals[change] += 1;
    for (const { pick, counts } of this.picks) if (pick.bucket === object.bucket && object.key.startsWith(pick.prefix)) counts[change] += 1;
  }

  /** Refuses (exit 2, before anything changes) an --objects that picked no object of the archive. */
  refuseUnmatched(archiveName: string): void {
    const empty = this.picks.find(({ counts }) => total(counts) === 0);
    if (empty === undefined) return;
    throw new UsageError(`--objects ${empty.pick.given} matches no object of rustfs in ${archiveName}.`, {
      hint: `Buckets of the archive: ${this.archived.join(', ') || 'none'}; a prefix is the start of the keys (orkestra-backup inspect ${archiveName} counts them). Nothing was touched.`,
    });
  }

  /** --to-bucket never overwrites: an object already there that differs is refused before anything is written. */
  refuseOverwriteBeside(differing: readonly string[]): void {
    if (this.to === undefined || differing.length === 0) return;
    throw new PreconditionError(`${differing[0]} exists and differs from the backup; --to-bucket never overwrites.`, {
      hint: 'Give an empty bucket or prefix, or move that object away and run the restore again.',
    });
  }

  /** One line per --objects for the dry run (all the objects without one). */
  lines(): string[] {
    if (this.picks.length === 0) return [`all ${countsText(this.totals)}`];
    return this.picks.map(({ pick, counts }) => `--objects ${pick.given}: ${countsText(counts)}`);
  }

  impact(): SelectionImpact {
    return { totals: countsText(this.totals), beside: this.to === undefined ? undefined : `bucket ${this.to.bucket}/${this.to.prefix}` };
  }
}

/** The selection of a restore given `--objects` or `--to-bucket`; refused (exit 2) when one is malformed or writes into the live selection. */
export function objectSelection(selection: RestoreSelection, archived: readonly string[]): ObjectSelection {
  const picks = (selection.flags.objects ?? []).map((given) => bucketPrefix('objects', given));
  const toGiven = selection.flags['to-bucket']?.[0];
  const to = toGiven === undefined ? undefined : bucketPrefix('to-bucket', toGiven);
  const folder = to && { ...to, prefix: to.prefix === '' || to.prefix.endsWith('/') ? to.prefix : `${to.prefix}/` };
  const scope = new ObjectSelection(archived, picks, folder);
  if (folder !== undefined) refuseOverlap(scope, folder);
  return scope;
}

/**
 * The archive files a restore of `selection` reads: the objects `--objects` picks (every object
 * without it). A file whose key the index does not record is counted in, so the set is never short.
 */
export function objectsRead(selection: RestoreSelection): (file: IndexedFile) => boolean {
  const picks = (selection.flags.objects ?? []).map((given) => bucketPrefix('objects', given));
  if (picks.length === 0) return () => true;
  return (file) => {
    const slash = file.path.indexOf('/');
    const key = file.details?.key;
    if (slash <= 0 || typeof key !== 'string') return true;
    const bucket = file.path.slice(0, slash);
    return picks.some((pick) => pick.bucket === bucket && key.startsWith(pick.prefix));
  };
}

function bucketPrefix(flag: string, given: string): BucketPrefix {
  const slash = given.indexOf('/');
  const bucket = slash < 0 ? given : given.slice(0, slash);
  if (!isValidBucketName(bucket)) {
    throw new UsageError(`--${flag} ${given}: ${JSON.stringify(bucket)} is not a valid bucket name.`, {
      hint: `Give BUCKET or BUCKET/PREFIX (--${flag} uploads/avatars/). Nothing was touched.`,
    });
  }
  return { given, bucket, prefix: slash < 0 ? '' : given.slice(slash + 1) };
}

/** Writing beside into keys the live selection holds would change it: refused. */
function refuseOverlap(scope: ObjectSelection, to: BucketPrefix): void {
  for (const bucket of scope.buckets) {
    if (bucket !== to.bucket) continue;
    const written = scope.targetKey(bucket, '');
    for (const prefix of scope.selectedPrefixes(bucket)) {
      if (written.startsWith(prefix) || prefix.startsWith(written)) {
        throw new UsageError(`--to-bucket ${to.given} overlaps ${bucket}/${prefix}, the live objects of the selection.`, {
          hint: 'Give another bucket, or a prefix apart from the selection (--to-bucket restored). Nothing was touched.',
        });
      }
    }
  }
}

/** The prefixes of which no other is the start, sorted in S3's key order: their objects are apart and listed one run after another. */
function outermost(prefixes: readonly string[]): string[] {
  const unique = [...new Set(prefixes)];
  return unique.filter((prefix) => !unique.some((other) => other !== prefix && prefix.startsWith(other))).sort(compareKeys);
}

function total(counts: Counts): number {
  return counts.add + counts.overwrite + counts.unchanged;
}

function countsText(counts: Counts): string {
  return `${plural(total(counts), 'object')} in the archive: ${counts.add} to add, ${counts.overwrite} to overwrite (different), ${counts.unchanged} identical`;
}
