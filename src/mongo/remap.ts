/** The mongorestore arguments that move an archive's database to the target's name, if they differ. */
export function remapArguments(sourceDb: string, targetDb: string): string[] {
  if (sourceDb === targetDb) return [];
  // Without --nsInclude some mongorestore versions restore nothing at all.
  return [`--nsInclude=${sourceDb}.*`, `--nsFrom=${sourceDb}.*`, `--nsTo=${targetDb}.*`];
}

/** Where a namespace of the archive lands, or undefined when the restore leaves it out. */
export function targetNamespace(db: string, collection: string, sourceDb: string, targetDb: string): string | undefined {
  if (db !== sourceDb) return undefined;
  return `${targetDb}.${collection}`;
}

/** Database names MongoDB accepts (no spaces, dots, slashes, quotes, `$`; under 64 bytes). */
export function isValidDatabaseName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) < 64 && !/[/\\. "$*<>:|?\0]/.test(name);
}
