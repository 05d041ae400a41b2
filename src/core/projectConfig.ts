import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../base/errors.js';
import type { Canary, CanaryKind } from './component.js';
import { DEFAULT_HEALTH_SETTINGS, HealthSettingsSchema, type HealthSettings } from '../model/health.js';

/**
 * `orkestra-backup.json` at the project root: the structure-level settings of a project (what
 * a drill must find after restoring). Settings and secrets stay in docker/.env.
 */
export const PROJECT_CONFIG_FILE = 'orkestra-backup.json';

/** The canaries a project may declare: each component's kind of canary, by the component's name. */
export type CanaryKinds = readonly { readonly component: string; readonly kind: CanaryKind }[];

/** A configured component: its kind, the kind's own fields (checked by the kind, see components/index.ts). */
const ComponentEntrySchema = z.looseObject({ kind: z.string().min(1) });

export interface ProjectConfig {
  readonly canaries: readonly Canary[];
  /** Declared components by name: `kind` and the kind's fields, not yet checked against the kind. */
  readonly components: Readonly<Record<string, { kind: string } & Record<string, unknown>>>;
  /** Anomaly thresholds and the age `status` accepts, defaults filled in. */
  readonly health: HealthSettings;
  /** Where the file is, for messages. */
  readonly path?: string;
}

/** Reads the project's orkestra-backup.json; a project without one has no configuration. */
export async function readProjectConfig(projectDir: string, canaryKinds: CanaryKinds): Promise<ProjectConfig> {
  const path = join(projectDir, PROJECT_CONFIG_FILE);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${error.message}.`);
  });
  return text === undefined
    ? { canaries: [], components: {}, health: DEFAULT_HEALTH_SETTINGS }
    : parseProjectConfigText(text, path, canaryKinds);
}

export function parseProjectConfigText(text: string, path: string, canaryKinds: CanaryKinds): ProjectConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}.`, { hint: 'Fix the file and run again.' });
  }
  const parsed = projectConfigSchema(canaryKinds).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // A bad record key (a component name) carries the reason in its own issues.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new UsageError(`${path}: ${fieldPath(issue.path)}: ${message}.`, {
      hint: 'See docs/configuration.md. Nothing was touched.',
    });
  }
  const canaries = (parsed.data.canaries ?? []).map((entry) => toCanary(entry, canaryKinds));
  return { canaries, components: parsed.data.components ?? {}, health: parsed.data.health ?? DEFAULT_HEALTH_SETTINGS, path };
}

function projectConfigSchema(canaryKinds: CanaryKinds) {
  return z.strictObject({
    $schema: z.string().optional(),
    canaries: z.array(canaryEntrySchema(canaryKinds)).optional(),
    components: z
      .record(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'a component name is lowercase letters, digits and "-"'), ComponentEntrySchema)
      .optional(),
    health: HealthSettingsSchema.optional(),
  });
}

/** `{ "name"?: …, "<key>": { … } }` with exactly one key of the components' canaries. */
function canaryEntrySchema(canaryKinds: CanaryKinds) {
  const keys = canaryKinds.map(({ kind }) => `"${kind.key}"`);
  const choice = keys.length > 1 ? `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}` : (keys[0] ?? 'none');
  return z
    .strictObject({
      name: z.string().min(1).optional(),
      ...Object.fromEntries(canaryKinds.map(({ kind }) => [kind.key, kind.schema.optional()])),
    })
    .superRefine((entry: Record<string, unknown>, context) => {
      const given = canaryKinds.filter(({ kind }) => entry[kind.key] !== undefined);
      if (given.length !== 1) context.addIssue({ code: 'custom', message: `give exactly one of ${choice}` });
      for (const { kind } of given) {
        const problem = kind.problem?.(entry[kind.key] as object);
        if (problem) context.addIssue({ code: 'custom', path: [kind.key], message: problem });
      }
    });
}

function toCanary(entry: Record<string, unknown>, canaryKinds: CanaryKinds): Canary {
  const { component, kind } = canaryKinds.find((candidate) => entry[candidate.kind.key] !== undefined)!;
  const fields = entry[kind.key] as Record<string, unknown>;
  return { label: (entry.name as string | undefined) ?? kind.label(fields), component, ...fields };
}

/** `canaries[2].redis.key`, as an operator finds it in the file. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the file';
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`)).join('');
}
