import { z } from 'zod';
import { UsageError } from '../base/errors.js';
import { ArchiveShapeSchema } from '../model/shape.js';
import { SeekTableSchema } from './seekTable.js';

/** v1.1 moved the file list out of the manifest into one index entry per component. */
export const MANIFEST_SCHEMA = 'orkestra-backup/v1.1';
const SUPPORTED_MAJOR = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

const FileRecordSchema = z.object({
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
});
export type FileRecord = z.infer<typeof FileRecordSchema>;

/** What the manifest says of one component's index entry, so that the index can be trusted as it streams. */
const IndexSummarySchema = z.object({
  /** Lines of the index: the component's files. */
  files: z.number().int().nonnegative(),
  /** Content bytes of those files. */
  bytes: z.number().int().nonnegative(),
  /** The index entry itself. */
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
  /** Where the component's first file starts in the uncompressed body (see `SeekTable`); absent from older archives. */
  at: z.number().int().nonnegative().optional(),
});
export type IndexSummary = z.infer<typeof IndexSummarySchema>;

/**
 * The original five fields keep their names and meaning; `tool`, `index`, `files` and `details`
 * are additions. Since v1.1 the files are listed in `index/<component>.jsonl` entries summarised
 * by `index`, so the manifest stays small at any number of files (a million objects made a
 * 550 MB `files` list); v1 archives list them in `files`. Archives of the original bash scripts
 * have neither and can be restored but not checksummed. Unknown fields are kept (a newer minor
 * version may add some).
 */
const ManifestSchema = z.looseObject({
  schema: z.string(),
  createdAt: z.string().min(1),
  environment: z.string().min(1),
  host: z.string(),
  components: z.array(z.string().min(1)),
  tool: z.looseObject({ name: z.string(), version: z.string() }).optional(),
  index: z.record(z.string(), IndexSummarySchema).optional(),
  files: z.array(FileRecordSchema).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  /**
   * Compressed bytes of the archive after the manifest's own gzip member (indexes and body):
   * with the archive's size it says where the manifest member ends, so a listing can tell a
   * cut or padded archive from its first bytes and its size alone. Since v1.1 (this field added
   * later in v1.1; absent from older archives).
   */
  bytesAfterManifest: z.number().int().nonnegative().optional(),
  /** The body's member sizes, for reads that start at a file instead of the first byte; absent from older archives. */
  seekTable: SeekTableSchema.optional(),
  /** HMACs of the encryption keys MongoDB's data depends on (names from ORKESTRA_BACKUP_KEY_NAMES), never their values. */
  keyFingerprints: z
    .object({
      salt: z.string().regex(/^[0-9a-f]{32}$/),
      keys: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), sha256Hex.nullable()),
    })
    .optional(),
  /** One id per backup run: the data and secrets archives of a split backup share it (added in v1.1). */
  backupId: z
    .string()
    .regex(/^[0-9a-f-]{36}$/)
    .optional(),
  /** Which half of a split backup (--split-secrets) this archive is; absent when the backup was one archive. */
  split: z.enum(['data', 'secrets']).optional(),
  /** What each component held (items per collection, database, bucket, folder), for anomaly checks (added in v1.1). */
  shape: ArchiveShapeSchema.optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** Checks the schema string first so a newer archive gets "upgrade" rather than a field error. */
export function parseManifest(text: string, archiveName: string): Manifest {
  checkRecordCount(text, archiveName);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`${archiveName}: manifest.json is not valid JSON.`, {
      hint: 'The archive is damaged; use another one.',
    });
  }
  checkSchemaVersion(raw, archiveName);
  checkSize(raw, archiveName);
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : 'manifest';
    throw new UsageError(`${archiveName}: manifest.json field "${where}" is invalid (${issue.message}).`, {
      hint: 'The archive is damaged or was not made by orkestra-backup.',
    });
  }
  checkFileList(parsed.data, archiveName);
  checkIndexList(parsed.data, archiveName);
  return parsed.data;
}

function checkSchemaVersion(raw: unknown, archiveName: string): void {
  const schema = typeof raw === 'object' && raw !== null ? (raw as { schema?: unknown }).schema : undefined;
  const match = typeof schema === 'string' ? /^orkestra-backup\/v(\d+)(?:\.\d+)?$/.exec(schema) : null;
  if (!match) {
    throw new UsageError(`${archiveName}: unknown manifest schema ${JSON.stringify(schema ?? null)}.`, {
      hint: `Expected "${MANIFEST_SCHEMA}"; this file was not made by orkestra-backup.`,
    });
  }
  if (Number(match[1]) > SUPPORTED_MAJOR) {
    throw new UsageError(`${archiveName}: made by a newer orkestra-backup (schema ${String(schema)}).`, {
      hint: 'Upgrade orkestra-backup to restore it.',
    });
  }
}

/** Far above the records of a million objects; a list longer than this is not one we wrote. */
const MAX_LIST_LENGTH = 5_000_000;
const MAX_VALUES = 50_000_000;

/**
 * Counts the objects a manifest's text would make before parsing it: JSON.parse of millions of
 * empty records takes more memory than the whole tool is allowed.
 */
function checkRecordCount(text: string, archiveName: string): void {
  let objects = 0;
  for (let index = text.indexOf('{'); index !== -1; index = text.indexOf('{', index + 1)) {
    objects += 1;
    if (objects > MAX_LIST_LENGTH) throw hostileManifest(archiveName);
  }
}

function hostileManifest(archiveName: string): UsageError {
  return new UsageError(
    `${archiveName}: manifest.json is damaged or hostile (more than ${MAX_LIST_LENGTH.toLocaleString('en-US')} records).`,
    {
      hint: 'Nothing was touched; use another copy of the backup.',
    },
  );
}

/**
 * Refuses a manifest whose shape is made to exhaust the validator (22 million empty records in a
 * 65 KB archive took 168 s and 2.1 GB) before validating it. Iterative, so depth cannot overflow
 * the stack either.
 */
function checkSize(raw: unknown, archiveName: string): void {
  const pending: unknown[] = [raw];
  let values = 0;
  while (pending.length > 0) {
    const value = pending.pop();
    values += 1;
    const children = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? Object.values(value) : [];
    if (children.length > MAX_LIST_LENGTH || values > MAX_VALUES) throw hostileManifest(archiveName);
    for (const child of children) if (typeof child === 'object' && child !== null) pending.push(child);
    values += children.length;
  }
}

function checkFileList(manifest: Manifest, archiveName: string): void {
  const seen = new Set<string>();
  for (const file of manifest.files ?? []) {
    if (seen.has(file.path)) {
      throw new UsageError(`${archiveName}: manifest.json lists ${file.path} twice.`, {
        hint: 'The archive is damaged; use another one.',
      });
    }
    seen.add(file.path);
  }
}

function checkIndexList(manifest: Manifest, archiveName: string): void {
  if (!manifest.index) return;
  const damaged = (problem: string) =>
    new UsageError(`${archiveName}: manifest.json ${problem}.`, { hint: 'The archive is damaged; use another one.' });
  if (manifest.files) throw damaged('has both a file list and file indexes');
  const unlisted = Object.keys(manifest.index).find((component) => !manifest.components.includes(component));
  if (unlisted !== undefined) throw damaged(`indexes ${JSON.stringify(unlisted)}, which it does not list as a component`);
  const unindexed = manifest.components.find((component) => !Object.hasOwn(manifest.index!, component));
  if (unindexed !== undefined) throw damaged(`has no file index for ${unindexed}`);
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
