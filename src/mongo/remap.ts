/**
 * The mongorestore arguments that scope a restore to the archive's database and, when the
 * target has another name, move it there. `--nsInclude` is always given: without it a dump
 * holding other databases (`admin.system.version`, say) would drop and restore those too.
 */
export function remapArguments(sourceDb: string, targetDb: string): string[] {
  const include = `--nsInclude=${sourceDb}.*`;
  if (sourceDb === targetDb) return [include];
  return [include, `--nsFrom=${sourceDb}.*`, `--nsTo=${targetDb}.*`];
}

/**
 * Where mongorestore run with `args` puts a namespace of the archive, or undefined when it
 * leaves it out — read from the very arguments that will run, so the report cannot drift from
 * what happens. Patterns use `*` as mongorestore does.
 */
export function namespaceTarget(args: readonly string[], namespace: string): string | undefined {
  const includes = valuesOf(args, 'nsInclude');
  if (includes.length > 0 && !includes.some((pattern) => patternOf(pattern).test(namespace))) return undefined;
  const tos = valuesOf(args, 'nsTo');
  for (const [index, from] of valuesOf(args, 'nsFrom').entries()) {
    const match = patternOf(from).exec(namespace);
    if (!match) continue;
    let wildcard = 0;
    return (tos[index] ?? namespace).replace(/\*/g, () => match[(wildcard += 1)] ?? '');
  }
  return namespace;
}

/** Where a namespace of the archive lands in a restore of `sourceDb` into `targetDb`. */
export function targetNamespace(db: string, collection: string, sourceDb: string, targetDb: string): string | undefined {
  return namespaceTarget(remapArguments(sourceDb, targetDb), `${db}.${collection}`);
}

/** A namespace as a mongorestore pattern matching it alone: each `*` and backslash escaped with a backslash. */
export function exactNamespace(namespace: string): string {
  return namespace.replace(/[\\*]/g, '\\$&');
}

/** Database names MongoDB accepts (no spaces, dots, slashes, quotes, `$`; under 64 bytes). */
export function isValidDatabaseName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) < 64 && !/[/\\. "$*<>:|?\0]/.test(name);
}

function valuesOf(args: readonly string[], name: string): string[] {
  const prefix = `--${name}=`;
  return args.filter((arg) => arg.startsWith(prefix)).map((arg) => arg.slice(prefix.length));
}

/** mongorestore's namespace pattern: `*` any run of characters, a backslash makes the next one literal. */
function patternOf(pattern: string): RegExp {
  const source = [...pattern.matchAll(/\\(.)|(\*)|(.)/gsu)]
    .map(([, escaped, star, plain]) => (star ? '(.*)' : (escaped ?? plain).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'su');
}
