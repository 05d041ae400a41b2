import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { maskCredentials } from '../../mongo/toolOutput.js';

/** Setting names whose values are secret: passwords, keys, tokens, credentials. */
const SECRET_NAME = /PASS|PWD|SECRET|TOKEN|KEY|AUTH|CREDENTIAL|PRIVATE|SALT|SIGNATURE|COOKIE|SESSION/i;
/** Names that match the pattern above but hold a path or a choice, which messages need to name. */
const NOT_SECRET_NAME = /_FILE$|_DIR$|_PATH$|_CONTAINER$|_NAMES$|^ORKESTRA_ACCEPT_|^ORKESTRA_ALLOW_|^SSH_AUTH_SOCK$/;

/**
 * The values a message must never show: those of docker/.env and the environment whose names say
 * they are secret, and the URLs messages go to (their tokens are in their paths).
 */
export async function secretValues(
  dockerDir: string | undefined,
  env: NodeJS.ProcessEnv,
  urls: readonly URL[],
): Promise<readonly string[]> {
  const dotenv = dockerDir === undefined ? {} : await readDotenv(join(dockerDir, '.env'));
  const secrets = new Set<string>();
  for (const source of [dotenv, env]) {
    for (const [name, value] of Object.entries(source)) {
      if (value && SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name)) secrets.add(value);
    }
  }
  for (const url of urls) {
    secrets.add(url.href);
    if (url.pathname.length > 1) secrets.add(url.pathname + url.search);
    if (url.search) secrets.add(url.search);
  }
  // The longest first: a secret that holds another is masked whole, not around the shorter one.
  return [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * Every string in a message with its secrets masked (the connection strings' passwords too),
 * field by field: masking the JSON text would miss a secret whose quotes JSON escapes.
 */
export function scrubbed<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return maskCredentials(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => scrubbed(item, secrets)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubbed(item, secrets)])) as T;
  }
  return value;
}

async function readDotenv(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? {} : parseDotenv(text);
}
