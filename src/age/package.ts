/**
 * The age-encryption package, imported on first use. With its curves and post-quantum code it
 * adds about 16 MB of resident memory at import, which a run that neither encrypts nor opens
 * an encrypted archive never needs (most runs: the whole process peaks near 200 MB).
 */
let loading: Promise<typeof import('age-encryption')> | undefined;

export function agePackage(): Promise<typeof import('age-encryption')> {
  return (loading ??= import('age-encryption'));
}
