import { z } from 'zod';

/**
 * `{ "kind": "volume", "volume": "orkestra-memgraph" }` (a named volume, reached through a container
 * that mounts it) or `{ "kind": "volume", "container": "orkestra-memgraph", "path": "/var/lib/memgraph" }`.
 */
export const VolumeSchema = z
  .strictObject({
    volume: z.string().min(1).optional(),
    container: z.string().min(1).optional(),
    path: z.string().regex(/^\/./, 'an absolute path inside the container, not "/"').optional(),
    title: z.string().min(1).optional(),
  })
  .refine((definition) => (definition.volume !== undefined) !== (definition.container !== undefined), {
    message: 'give "volume" (a named volume), or "container" and "path"',
  })
  .refine((definition) => definition.container === undefined || definition.path !== undefined, {
    message: '"container" needs "path" (the folder inside it)',
    path: ['path'],
  });
export type VolumeDefinition = z.infer<typeof VolumeSchema>;

/** How the plan and the title name it: the volume, or the container's folder. */
export function describedVolume(definition: VolumeDefinition): string {
  return definition.volume !== undefined ? `volume ${definition.volume}` : `${definition.container}:${definition.path}`;
}
