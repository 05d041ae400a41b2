import type { z } from 'zod';
import type { ComponentSource } from './componentSource.js';
import { UsageError } from '../base/errors.js';

/**
 * A component's `details` from the manifest: undefined for archives of the original scripts,
 * which have none; refused when present but malformed — a manifest with a wrong field is damaged.
 */
export function readDetails<T>(schema: z.ZodType<T>, source: ComponentSource, component: string): T | undefined {
  if (source.details === undefined) return undefined;
  const parsed = schema.safeParse(source.details);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new UsageError(
    `${source.archiveName}: manifest.json field "details.${component}.${issue.path.join('.')}" is invalid (${issue.message}).`,
    {
      hint: 'The archive is damaged; nothing was touched.',
    },
  );
}
