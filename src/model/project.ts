import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { UsageError } from '../base/errors.js';

/**
 * The deployment being backed up or restored: its folders, its environment name, and where
 * settings come from. Settings are looked up in this order: `docker/.env`, then
 * the process environment, then the container's own environment, then the caller's default.
 */
export interface Project {
  readonly dir: string;
  readonly dockerDir: string;
  readonly backupsDir: string;
  readonly environment: string;
  setting(key: string, containerEnv?: Readonly<Record<string, string>>): string | undefined;
  /** The container a component talks to: `--container name=…`, `ORKESTRA_<NAME>_CONTAINER`, or the default. */
  containerName(component: string, fallback: string): string;
  /** Where absolute host paths are put instead of the host's own (a drill's folder); undefined: the host itself. */
  readonly hostRoot?: string;
}

export interface ProjectOptions {
  projectDir?: string;
  environment?: string;
  containers?: Readonly<Record<string, string>>;
  /** Settings given as flags (`--no-keep-mongodb`): they win over every other source. */
  settings?: Readonly<Record<string, string>>;
  processEnv?: NodeJS.ProcessEnv;
}

export async function openProject(options: ProjectOptions = {}): Promise<Project> {
  const processEnv = options.processEnv ?? process.env;
  const dir = resolve(options.projectDir ?? process.cwd());
  const dockerDir = join(dir, 'docker');
  const dockerInfo = await stat(dockerDir).catch(() => undefined);
  if (!dockerInfo?.isDirectory()) {
    throw new UsageError(`${dir} has no docker/ folder.`, {
      hint: 'Run from the Orkestra repo root or pass --project-dir <path>.',
    });
  }
  const dotenv = await readDotenv(join(dockerDir, '.env'));
  const flags = options.settings ?? {};
  // A flag set to "" means none, whatever docker/.env says (the encryption flags replace its settings).
  const setting = (key: string, containerEnv?: Readonly<Record<string, string>>) =>
    Object.hasOwn(flags, key)
      ? nonEmpty(flags[key])
      : (nonEmpty(dotenv[key]) ?? nonEmpty(processEnv[key]) ?? nonEmpty(containerEnv?.[key]));
  const environment = options.environment ?? setting('ORKESTRA_ENV') ?? 'local';
  checkEnvironmentName(environment);
  const containers = options.containers ?? {};
  return {
    dir,
    dockerDir,
    backupsDir: join(dir, 'backups'),
    environment,
    setting,
    containerName(component, fallback) {
      const variable = `ORKESTRA_${component.toUpperCase()}_CONTAINER`;
      return containers[component] ?? nonEmpty(processEnv[variable]) ?? fallback;
    },
  };
}

async function readDotenv(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? {} : parseDotenv(text);
}

/** The environment name goes into a file name, so it must be a plain word. */
function checkEnvironmentName(environment: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(environment)) {
    throw new UsageError(`environment name ${JSON.stringify(environment)} is not usable in a file name.`, {
      hint: 'Use letters, digits, ".", "_" or "-" (from --env or ORKESTRA_ENV).',
    });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
