import { z } from 'zod';
import { normalisePath } from '../../base/globMatch.js';
import { RESERVED_FOLDERS } from './targets.js';

/** `{ "kind": "directory", "path": "docker/marketing-spool-*" }`: folders of the project (or absolute host folders), glob allowed. */
export const DirectorySchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .refine((path) => path.split('/').every((segment) => segment !== '..'), 'a folder glob never climbs out with ".."')
    .refine(
      (path) => !['', '.', '/', ...RESERVED_FOLDERS].includes(normalisePath(path)),
      `name folders inside the project or docker/ (docker/data), not the project, ${RESERVED_FOLDERS.map((folder) => `${folder}/`).join(', ')} or / itself`,
    ),
  title: z.string().min(1).optional(),
});
export type DirectoryDefinition = z.infer<typeof DirectorySchema>;
