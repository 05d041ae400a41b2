/**
 * The age-encryption package (its curves and post-quantum code), imported on first use: most
 * runs neither encrypt nor open an encrypted archive. With the mongodb driver also loaded on
 * first use, every such run starts 6.6 MB smaller (`--version`: 93.5 → 86.9 MB peak RSS), in a
 * process whose peak is held under 200 MB.
 */
let loading: Promise<typeof import('age-encryption')> | undefined;

export function agePackage(): Promise<typeof import('age-encryption')> {
  return (loading ??= import('age-encryption'));
}
