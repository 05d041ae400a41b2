import { firstLine, withoutFinalPeriod } from '../base/format.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../base/errors.js';
import { parseCompression, type CompressionChoice } from '../archive/compression.js';
import { KEY_SETTINGS } from '../core/archiveKeys.js';
import { parseRetentionPolicy, RETENTION_RULES, type RetentionPolicy } from '../core/retention.js';
import type { RestoreSelector } from '../core/component.js';
import { RESTORE_SELECTORS } from '../components/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON_OPTIONS = {
  'project-dir': { type: 'string' },
  env: { type: 'string' },
  container: { type: 'string', multiple: true },
  'endpoint-url': { type: 'string' },
  'mongo-uri': { type: 'string' },
  'redis-url': { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies Options;

/** What opens an encrypted archive: every command that reads archives takes them. */
const OPENING_OPTIONS = {
  identity: { type: 'string', multiple: true, short: 'i' },
  'passphrase-file': { type: 'string' },
} as const satisfies Options;

/** Where a run's outcome is told: the commands a cron job runs take them. */
const NOTIFY_OPTIONS = {
  notify: { type: 'string', multiple: true },
  'notify-on': { type: 'string' },
} as const satisfies Options;

const COMMAND_OPTIONS = {
  backup: {
    'encrypt-to': { type: 'string', multiple: true, short: 'r' },
    'recipients-file': { type: 'string', multiple: true, short: 'R' },
    'passphrase-file': { type: 'string' },
    'split-secrets': { type: 'boolean' },
    'secrets-output': { type: 'string' },
    'secrets-encrypt-to': { type: 'string', multiple: true },
    'secrets-recipients-file': { type: 'string', multiple: true },
    'allow-plaintext-secrets': { type: 'boolean' },
    compression: { type: 'string' },
    components: { type: 'string', short: 'c' },
    output: { type: 'string', short: 'o' },
    yes: { type: 'boolean', short: 'y' },
    strict: { type: 'boolean' },
    prune: { type: 'string' },
    ...NOTIFY_OPTIONS,
    'fail-on-anomaly': { type: 'boolean' },
    'accept-anomaly': { type: 'boolean' },
  },
  restore: {
    components: { type: 'string', short: 'c' },
    'dry-run': { type: 'boolean', short: 'n' },
    yes: { type: 'boolean', short: 'y' },
    'no-keep-mongodb': { type: 'boolean' },
    'accept-key-drift': { type: 'boolean' },
    'allow-outside-project': { type: 'boolean' },
    secrets: { type: 'string' },
    'allow-mismatch': { type: 'boolean' },
    ...OPENING_OPTIONS,
  },
  verify: { ...OPENING_OPTIONS, ...NOTIFY_OPTIONS },
  inspect: { ...OPENING_OPTIONS, find: { type: 'string' }, limit: { type: 'string' } },
  list: { ...OPENING_OPTIONS },
  prune: {
    ...OPENING_OPTIONS,
    'keep-last': { type: 'string' },
    'keep-hourly': { type: 'string' },
    'keep-daily': { type: 'string' },
    'keep-weekly': { type: 'string' },
    'keep-monthly': { type: 'string' },
    'keep-yearly': { type: 'string' },
    'dry-run': { type: 'boolean', short: 'n' },
    'remove-broken': { type: 'boolean' },
  },
  drill: {
    ...OPENING_OPTIONS,
    components: { type: 'string', short: 'c' },
    from: { type: 'string' },
    image: { type: 'string', multiple: true },
    cleanup: { type: 'boolean' },
    ...NOTIFY_OPTIONS,
  },
  status: {
    ...OPENING_OPTIONS,
    metrics: { type: 'string' },
  },
  history: {
    limit: { type: 'string' },
  },
  accept: { ...OPENING_OPTIONS },
  help: {},
} as const satisfies Record<string, Options>;

export type CommandName = keyof typeof COMMAND_OPTIONS;

/** The commands that take the components' restore selectors (a drill refuses those that make no sense there). */
const SELECTING: ReadonlySet<CommandName> = new Set(['restore', 'drill']);

export interface CommonArgs {
  projectDir?: string;
  env?: string;
  containers: Record<string, string>;
  json: boolean;
  debug: boolean;
  help: boolean;
  /** Settings given as flags, by their setting name (`--no-keep-mongodb` → ORKESTRA_KEEP_MONGODB=no). */
  settings: Record<string, string>;
}

export interface ParsedCommand {
  /** undefined when no subcommand was given (the TUI's start screen, or top-level help). */
  command?: CommandName;
  common: CommonArgs;
  positionals: string[];
  components?: string;
  output?: string;
  yes: boolean;
  dryRun: boolean;
  version: boolean;
  /** backup all: a skipped component fails the run (exit 1), for CI. */
  strict: boolean;
  /** prune: the --keep-* rules given. */
  retention?: RetentionPolicy;
  /** backup --prune '<policy>': prune the archive's folder after a successful backup. */
  pruneAfter?: RetentionPolicy;
  /** prune --remove-broken. */
  removeBroken: boolean;
  /** backup --split-secrets / --secrets-output. */
  splitSecrets?: { output?: string };
  /** backup --compression gzip[:level] | zstd[:level]. */
  compression?: CompressionChoice;
  /** restore --secrets <archive>: the secrets archive of a split backup, restored with the data archive. */
  secretsArchive?: string;
  /** restore --allow-mismatch: a secrets archive of another backup run. */
  allowMismatch: boolean;
  /** drill --image <component>=<image>. */
  images: Record<string, string>;
  /** drill --from <folder|s3://prefix/>: where `latest` looks. */
  from?: string;
  /** drill --cleanup: remove what drills killed outright left behind. */
  cleanup: boolean;
  /** status --metrics <file>: the Prometheus textfile to write. */
  metrics?: string;
  /** restore, drill: the components' selector flags given (`--files .env`), by flag name. */
  selectors: Record<string, string[]>;
  /** history --limit N: the newest N runs. */
  limit?: number;
  /** backup --fail-on-anomaly: an anomaly makes the run exit 1 (the archive is kept). */
  failOnAnomaly: boolean;
  /** backup --accept-anomaly: this backup's differences from its baseline were intended. */
  acceptAnomaly: boolean;
  /** inspect --find <glob>: the items to search the archive for, and --limit: how many matches to show. */
  find?: { pattern: string; limit: number };
}

export function isCommand(word: string): word is CommandName {
  return Object.hasOwn(COMMAND_OPTIONS, word);
}

/**
 * Parses argv with node:util parseArgs. Common options may come before or after the
 * subcommand; each subcommand accepts only its own flags, so a typo is an error, not a no-op.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const commandIndex = findCommandIndex(argv);
  const command = commandIndex === -1 ? undefined : argv[commandIndex];
  if (command !== undefined && !isCommand(command)) {
    throw new UsageError(`unknown command "${command}".`, {
      hint: 'Commands: backup, restore, verify, inspect, list, prune, drill, status, history, accept, help. See orkestra-backup --help.',
    });
  }
  const rest = commandIndex === -1 ? [...argv] : argv.filter((_, index) => index !== commandIndex);
  const options = {
    ...COMMON_OPTIONS,
    ...(command ? COMMAND_OPTIONS[command] : {}),
    ...(command !== undefined && SELECTING.has(command) ? selectorOptions(RESTORE_SELECTORS) : {}),
  } as Options;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    const where = command ? `orkestra-backup ${command} --help` : 'orkestra-backup --help';
    throw new UsageError(`${describeParseError(error as Error)}.`, { hint: `See ${where}.` });
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  return {
    command,
    common: {
      projectDir: values['project-dir'] as string | undefined,
      env: values.env as string | undefined,
      containers: parseContainerOverrides((values.container as string[] | undefined) ?? []),
      json: Boolean(values.json),
      debug: Boolean(values.debug),
      help: Boolean(values.help),
      settings: flagSettings(values),
    },
    positionals: parsed.positionals,
    components: values.components as string | undefined,
    output: values.output as string | undefined,
    yes: Boolean(values.yes),
    dryRun: Boolean(values['dry-run']),
    version: Boolean(values.version),
    strict: Boolean(values.strict),
    retention: command === 'prune' ? keepRules(values) : undefined,
    pruneAfter: typeof values.prune === 'string' ? parseRetentionPolicy(values.prune) : undefined,
    removeBroken: Boolean(values['remove-broken']),
    splitSecrets:
      values['split-secrets'] || values['secrets-output'] !== undefined
        ? { output: values['secrets-output'] as string | undefined }
        : undefined,
    compression: typeof values.compression === 'string' ? parseCompression(values.compression) : undefined,
    secretsArchive: values.secrets as string | undefined,
    allowMismatch: Boolean(values['allow-mismatch']),
    images: parseImages((values.image as string[] | undefined) ?? []),
    from: values.from as string | undefined,
    cleanup: Boolean(values.cleanup),
    metrics: values.metrics as string | undefined,
    selectors: command !== undefined && SELECTING.has(command) ? selectorValues(RESTORE_SELECTORS, values) : {},
    limit: command === 'history' && typeof values.limit === 'string' ? parseLimit(values.limit) : undefined,
    failOnAnomaly: Boolean(values['fail-on-anomaly']),
    acceptAnomaly: Boolean(values['accept-anomaly']),
    find: command === 'inspect' ? findValues(values) : undefined,
  };
}

/** The components' restore selectors as options; each may be given many times, and is refused below when it may not. */
export function selectorOptions(selectors: readonly RestoreSelector[]): Options {
  const options: Options = {};
  for (const { flag, value } of selectors) {
    const taken = [...SELECTING].find((command) => Object.hasOwn(COMMAND_OPTIONS[command], flag));
    if (Object.hasOwn(COMMON_OPTIONS, flag) || taken !== undefined) {
      throw new Error(`restore selector --${flag} has the name of ${taken ? `one of ${taken}'s own options` : 'a common option'}`);
    }
    options[flag] = { type: value === undefined ? 'boolean' : 'string', multiple: true };
  }
  return options;
}

/** The selector flags given, by flag name: a flag that may not repeat given twice, or an empty value, is refused (exit 2). */
export function selectorValues(selectors: readonly RestoreSelector[], values: Record<string, unknown>): Record<string, string[]> {
  const given: Record<string, string[]> = {};
  for (const { flag, value, repeatable } of selectors) {
    const flags = values[flag] as (string | boolean)[] | undefined;
    if (flags === undefined) continue;
    const list = flags.map((entry) => (entry === true ? 'yes' : String(entry)));
    if (!repeatable && list.length > 1) {
      throw new UsageError(`--${flag} may be given once (it was given ${list.length} times).`, {
        hint: `Give one --${flag}${value === undefined ? '' : ` ${value}`}. See orkestra-backup restore --help.`,
      });
    }
    const empty = list.find((entry) => entry.trim() === '');
    if (empty !== undefined)
      throw new UsageError(`--${flag} needs a ${value}, not an empty value.`, { hint: 'See orkestra-backup restore --help.' });
    given[flag] = list;
  }
  return given;
}

/** The most matches `inspect --find` shows unless --limit says otherwise. */
const DEFAULT_FIND_LIMIT = 100;

function findValues(values: Record<string, unknown>): { pattern: string; limit: number } | undefined {
  const { find: pattern, limit } = values as { find?: string; limit?: string };
  if (pattern === undefined) {
    if (limit !== undefined)
      throw new UsageError('--limit is for --find.', { hint: 'Example: inspect <file> --find "session:*" --limit 20.' });
    return undefined;
  }
  if (pattern === '') throw new UsageError('--find needs a name or a glob, not an empty value.', { hint: 'Example: --find "session:*".' });
  if (limit !== undefined && !/^\d+$/.test(limit)) {
    throw new UsageError(`--limit needs a whole number, not "${limit}".`, { hint: 'Example: --limit 20.' });
  }
  return { pattern, limit: limit === undefined ? DEFAULT_FIND_LIMIT : Number(limit) };
}

/** Flags that stand for settings, by the setting's name: they win over docker/.env and the environment. */
function flagSettings(values: Record<string, unknown>): Record<string, string> {
  const settings: Record<string, string> = {};
  if (values['no-keep-mongodb']) settings.ORKESTRA_KEEP_MONGODB = 'no';
  if (values['accept-key-drift']) settings.ORKESTRA_ACCEPT_KEY_DRIFT = 'yes';
  if (values['allow-outside-project']) settings.ORKESTRA_ALLOW_OUTSIDE_PROJECT = 'yes';
  if (values['allow-plaintext-secrets']) settings.ORKESTRA_ALLOW_PLAINTEXT_SECRETS = 'yes';
  if (typeof values['endpoint-url'] === 'string') settings.AWS_ENDPOINT_URL_S3 = values['endpoint-url'];
  if (typeof values['mongo-uri'] === 'string') settings.MONGO_URI = values['mongo-uri'];
  if (typeof values['redis-url'] === 'string') settings.REDIS_URL = values['redis-url'];
  if (Array.isArray(values.notify)) settings.ORKESTRA_NOTIFY = values.notify.join(',');
  if (typeof values['notify-on'] === 'string') settings.ORKESTRA_NOTIFY_ON = values['notify-on'];
  Object.assign(settings, encryptionSettings(values));
  return settings;
}

/**
 * Encryption flags as settings. On backup, any of them replaces all of docker/.env's encryption
 * settings (an empty value is "none"), so a recipients file there is not silently added to the
 * --encrypt-to given here.
 */
function encryptionSettings(values: Record<string, unknown>): Record<string, string> {
  const list = (name: string) => (values[name] as string[] | undefined)?.join('\n');
  const recipients = list('encrypt-to');
  const recipientsFile = list('recipients-file');
  const passphraseFile = values['passphrase-file'] as string | undefined;
  const identity = list('identity');
  const settings: Record<string, string> = {};
  if (recipients !== undefined || recipientsFile !== undefined || passphraseFile !== undefined) {
    settings[KEY_SETTINGS.recipients] = recipients ?? '';
    settings[KEY_SETTINGS.recipientsFile] = recipientsFile ?? '';
    settings[KEY_SETTINGS.passphraseFile] = passphraseFile ?? '';
  }
  if (identity !== undefined) settings[KEY_SETTINGS.identity] = identity;
  const secretsRecipients = list('secrets-encrypt-to');
  const secretsRecipientsFile = list('secrets-recipients-file');
  if (secretsRecipients !== undefined || secretsRecipientsFile !== undefined) {
    settings[KEY_SETTINGS.secretsRecipients] = secretsRecipients ?? '';
    settings[KEY_SETTINGS.secretsRecipientsFile] = secretsRecipientsFile ?? '';
  }
  return settings;
}

function keepRules(values: Record<string, unknown>): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const rule of RETENTION_RULES) {
    const value = values[`keep-${rule}`];
    if (typeof value !== 'string') continue;
    if (!/^\d+$/.test(value)) {
      throw new UsageError(`--keep-${rule} needs a whole number, not "${value}".`, { hint: 'Example: --keep-daily 7.' });
    }
    policy[rule] = Number(value);
  }
  return policy;
}

function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--limit needs a whole number of runs, at least 1, not "${value}".`, { hint: 'Example: --limit 50.' });
  }
  return Number(value);
}

function describeParseError(error: Error): string {
  const unknown = /Unknown option '([^']+)'/.exec(error.message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '([^']+)' argument missing/.exec(error.message);
  if (missing) return `option ${missing[1]} needs a value`;
  return withoutFinalPeriod(firstLine(error.message));
}

/** The first word that is not an option nor the value of a common option that takes one. */
function findCommandIndex(argv: readonly string[]): number {
  for (let index = 0; index < argv.length; index += 1) {
    const word = argv[index];
    if (word === '--') return -1;
    if (!word.startsWith('-')) return index;
    const name = word.replace(/^--?/, '');
    const option = (COMMON_OPTIONS as Options)[name];
    if (option?.type === 'string' && !word.includes('=')) index += 1;
  }
  return -1;
}

function parseImages(values: readonly string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const value of values) {
    const match = /^([a-z0-9-]+)=(\S+)$/.exec(value);
    if (!match) {
      throw new UsageError(`--image ${value} is not of the form <component>=<image>.`, { hint: 'Example: --image redis=redis:7.2.' });
    }
    images[match[1]] = match[2];
  }
  return images;
}

function parseContainerOverrides(values: readonly string[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const value of values) {
    const match = /^([a-z0-9-]+)=([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(value);
    if (!match) {
      throw new UsageError(`--container ${value} is not of the form <component>=<container name>.`, {
        hint: 'Example: --container redis=my-redis.',
      });
    }
    overrides[match[1]] = match[2];
  }
  return overrides;
}
