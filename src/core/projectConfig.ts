import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../base/errors.js';

/**
 * `orkestra-backup.json` at the project root: the structure-level settings of a project (what
 * a drill must find after restoring). Settings and secrets stay in docker/.env.
 */
export const PROJECT_CONFIG_FILE = 'orkestra-backup.json';

const count = z.number().int().nonnegative();

const MongoCanarySchema = z.strictObject({
  collection: z.string().min(1),
  /** A MongoDB query filter, as the driver's countDocuments takes it. */
  filter: z.record(z.string(), z.unknown()).optional(),
  min: count.optional(),
  exact: count.optional(),
});

const REDIS_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream'] as const;

const RedisCanarySchema = z.strictObject({
  key: z.string().min(1),
  db: z.number().int().min(0).max(15).optional(),
  type: z.enum(REDIS_TYPES).optional(),
});

const S3CanarySchema = z.strictObject({
  bucket: z.string().min(1),
  key: z.string().min(1),
  minSize: count.optional(),
});

const CanaryEntrySchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    mongodb: MongoCanarySchema.optional(),
    redis: RedisCanarySchema.optional(),
    s3: S3CanarySchema.optional(),
  })
  .superRefine((entry, context) => {
    const kinds = [entry.mongodb, entry.redis, entry.s3].filter(Boolean).length;
    if (kinds !== 1) context.addIssue({ code: 'custom', message: 'give exactly one of "mongodb", "redis" or "s3"' });
    if (entry.mongodb?.min !== undefined && entry.mongodb.exact !== undefined) {
      context.addIssue({ code: 'custom', path: ['mongodb'], message: 'give "min" or "exact", not both' });
    }
  });

/** A configured component: its kind, the kind's own fields (checked by the kind, see components/index.ts). */
const ComponentEntrySchema = z.looseObject({ kind: z.string().min(1) });

const ProjectConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  canaries: z.array(CanaryEntrySchema).optional(),
  components: z
    .record(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'a component name is lowercase letters, digits and "-"'), ComponentEntrySchema)
    .optional(),
});

/** A user canary, by the component that answers it. */
export type Canary =
  | ({ readonly label: string; readonly component: 'mongodb' } & z.infer<typeof MongoCanarySchema>)
  | ({ readonly label: string; readonly component: 'redis' } & z.infer<typeof RedisCanarySchema>)
  | ({ readonly label: string; readonly component: 'rustfs' } & z.infer<typeof S3CanarySchema>);

export interface ProjectConfig {
  readonly canaries: readonly Canary[];
  /** Declared components by name: `kind` and the kind's fields, not yet checked against the kind. */
  readonly components: Readonly<Record<string, { kind: string } & Record<string, unknown>>>;
  /** Where the file is, for messages. */
  readonly path?: string;
}

/** Reads the project's orkestra-backup.json; a project without one has no configuration. */
export async function loadProjectConfig(projectDir: string): Promise<ProjectConfig> {
  const path = join(projectDir, PROJECT_CONFIG_FILE);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${error.message}.`);
  });
  return text === undefined ? { canaries: [], components: {} } : parseProjectConfig(text, path);
}

export function parseProjectConfig(text: string, path: string = PROJECT_CONFIG_FILE): ProjectConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}.`, { hint: 'Fix the file and run again.' });
  }
  const parsed = ProjectConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // A bad record key (a component name) carries the reason in its own issues.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new UsageError(`${path}: ${fieldPath(issue.path)}: ${message}.`, {
      hint: 'See docs/configuration.md. Nothing was touched.',
    });
  }
  return { canaries: (parsed.data.canaries ?? []).map(toCanary), components: parsed.data.components ?? {}, path };
}

function toCanary(entry: z.infer<typeof CanaryEntrySchema>): Canary {
  if (entry.mongodb) {
    const { collection, filter, min, exact } = entry.mongodb;
    const bound = exact !== undefined ? `= ${exact}` : `≥ ${min ?? 1}`;
    const label = entry.name ?? `mongodb ${collection}${filter ? ` ${JSON.stringify(filter)}` : ''} ${bound}`;
    return { label, component: 'mongodb', ...entry.mongodb };
  }
  if (entry.redis) return { label: entry.name ?? `redis key ${entry.redis.key}`, component: 'redis', ...entry.redis };
  const s3 = entry.s3!;
  return { label: entry.name ?? `s3 object ${s3.bucket}/${s3.key}`, component: 'rustfs', ...s3 };
}

/** `canaries[2].redis.key`, as an operator finds it in the file. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the file';
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`)).join('');
}
