import { COMPONENTS, RESTORE_SELECTORS, selectorOwners } from '../components/index.js';
import type { CommandName } from './args.js';
import type { RestoreSelector } from '../core/component.js';

const COMMON = `Common options:
  --project-dir <path>        the Orkestra repo root (the folder holding docker/); default: current folder
  --env <name>                environment name for file names and the manifest (else ORKESTRA_ENV, else local)
  --container <comp>=<name>   use another container for a component (also ORKESTRA_<COMP>_CONTAINER)
  --endpoint-url <url>        the S3 service of s3:// URLs (also AWS_ENDPOINT_URL_S3; keys from
                              AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, region AWS_REGION)
  --mongo-uri <uri>           MongoDB without Docker: the host's mongodump/mongorestore (PATH or
                              ORKESTRA_MONGO_TOOLS) against this server (prefer MONGO_URI in docker/.env:
                              a flag's password is visible to ps)
  --redis-url <url>           Redis without Docker (redis://, rediss://): backup through replication (SYNC),
                              restore online with RESTORE commands (also REDIS_URL; same ps caveat)
  --json                      machine-readable result on stdout
  --debug                     show the stack trace of an unexpected failure
  -h, --help                  this help
  -v, --version               print the version`;

const TOOL_HELP = `orkestra-backup — back up and restore a whole Orkestra deployment
(MongoDB, Redis, the RustFS object store and the secret files) into one .tar.gz.

Usage:
  orkestra-backup                          interactive interface (on a terminal)
  orkestra-backup backup all --yes         back up every available component
  orkestra-backup backup -c mongodb,secrets [-o file|s3://bucket/prefix/|-] --yes
  orkestra-backup restore <file> --dry-run preflight: report what would happen, change nothing
  orkestra-backup restore <file> [-c list] [--yes]
  orkestra-backup verify <file>            check an archive without any server
  orkestra-backup inspect <file>           show what an archive holds
  orkestra-backup inspect <file> --find 'session:*'  where the keys, collections, objects, files of that name are
  orkestra-backup list [folder|s3://…/]     the archives of a folder (default ./backups), newest first
  orkestra-backup prune <folder|s3://…/> --keep-daily 7 --keep-monthly 12 [--dry-run]
  orkestra-backup drill <file|s3://…|latest>  restore into throwaway containers and check the data came back
  orkestra-backup status [--json] [--metrics FILE]  the health of the backups: exit 0 healthy, 1 not
  orkestra-backup history [--limit N]      the last runs of backup, restore, drill, verify and prune
  orkestra-backup accept <file|s3://…>     its anomalies were intended: the next backup is compared with it

An archive may be a file or s3://bucket/key; verify and inspect also read - (standard input).
  orkestra-backup help [command]           this help, or a command's

Components: ${COMPONENTS.map((component) => component.name).join(', ')}.
Exit codes: 0 success, 1 operation failed, 2 usage error or bad archive.

${COMMON}`;

const OPENING = `
Encrypted archives (….age):
  -i, --identity <file>       an age identity file (AGE-SECRET-KEY-1…; repeatable; also ORKESTRA_BACKUP_IDENTITY)
      --passphrase-file <f>   the passphrase of a passphrase-encrypted archive (else asked on a terminal)
`;

const NOTIFY = `
Notifications (for cron; see docs/monitoring.md):
      --notify <url>          post a JSON message (with a Slack/Mattermost "text" field) to this webhook on
                              failure or anomalies (repeatable; replaces ORKESTRA_NOTIFY, comma-separated,
                              which keeps the URL's token out of ps)
      --notify-on success     post successes too (also ORKESTRA_NOTIFY_ON=success)
  ORKESTRA_HEALTHCHECK_URL pings a healthchecks.io-style check: /start, then the URL or /fail (backup, drill).
  A message that cannot be delivered is a warning; the exit code is the run's.
`;

const COMMAND_HELP: Record<Exclude<CommandName, 'help'>, string> = {
  backup: `Usage: orkestra-backup backup (all | --components <list>) [options]

Writes ./backups/orkestra-backup-<env>-<UTC YYYYMMDD-HHMMSS>.tar.gz (mode 0600) and prints its path.

  all                         every component available on this host; unavailable ones are skipped and named
  -c, --components <list>     only these, e.g. mongodb,secrets; each must be available
  -o, --output <path>         write here instead (never overwrites an existing file); also
                              s3://bucket/prefix/ (default name under it), s3://bucket/key.tar.gz,
                              or - (standard output; refused on a terminal). To S3 the archive is
                              uploaded while it is made, then read back and checked.
      --compression <c>       gzip (default, level ORKESTRA_GZIP_LEVEL), gzip:<0-9>, zstd (level 3) or zstd:<1-19>;
                              zstd writes ….tar.zst (Node 22.15+); every command reads both
  -y, --yes                   do not ask before starting; required when stdin is not a terminal
      --strict                with all: a skipped (unavailable) component fails the run with exit 1
      --prune <policy>        after a successful backup, prune its folder or s3:// prefix, e.g. 'hourly=24,daily=30,monthly=12'
                              (the rules of prune; never after a failed backup)
  -r, --encrypt-to <age1…>    encrypt the archive with age to this recipient (repeatable); the file is ….tar.gz.age
  -R, --recipients-file <f>   recipients from a file (age's format; repeatable)
      --passphrase-file <f>   encrypt with the passphrase on the file's first line (scrypt) instead
                              (settings: ORKESTRA_BACKUP_RECIPIENTS, _RECIPIENTS_FILE, _PASSPHRASE_FILE)
      --split-secrets         write secrets into an archive of their own (…-secrets.tar.gz beside the data one),
                              both with one backupId; restore them together with restore --secrets
      --secrets-output <path> where the secrets archive goes (a file or s3://…; implies --split-secrets)
      --secrets-encrypt-to <age1…>, --secrets-recipients-file <f>
                              the secrets archive's own recipients (default: the data archive's encryption)
      --allow-plaintext-secrets
                              allow an unencrypted archive holding secrets to go to s3:// (refused by default)
      --fail-on-anomaly       exit 1 when the backup differs from its baseline (the archive is kept)
      --accept-anomaly        its differences from the baseline were intended: it becomes the baseline
${NOTIFY}

After writing, the archive is compared with its baseline (the newest good backup of the environment):
a component that became empty, a collection, Redis database, bucket or folder that lost more than
health.shrinkThreshold of its items (default 50 %) or disappeared, a secret file or key name that
vanished, an archive health.archiveShrinkThreshold smaller (default 50 %) is an ANOMALY, said in the
summary and in --json ("anomalies"). The exit code stays 0 unless --fail-on-anomaly.

Without arguments on a terminal, opens the interactive interface.

${COMMON}`,
  restore: `Usage: orkestra-backup restore <file> [options]

Checks the whole archive (manifest, every file's SHA-256) before touching anything, then
restores each component. On a terminal, asks you to type "restore" before any change.

  <file>                      an archive made by backup, or s3://bucket/key (read twice, never to disk);
                              omitted on a terminal: pick one from ./backups/. Standard input is refused.
  -c, --components <list>     restore only these; each must be in the archive
  -n, --dry-run               report exactly what would happen and change nothing; needs no --yes
  -y, --yes                   skip the type-"restore" gate; required for a real restore without a terminal.
                              Existing secret files are then moved aside into docker/.pre-restore-<UTC stamp>/
      --no-keep-mongodb       do not dump the current MongoDB database into docker/.pre-restore-<UTC stamp>/
                              before --drop replaces it (it is kept, and put back on failure, by default)
      --accept-key-drift      restore mongodb even though docker/.env holds other encryption keys
                              (OAUTH_TOKEN_ENCRYPTION_KEY, ORKESTRA_KMS_MASTER_KEY; ORKESTRA_BACKUP_KEY_NAMES)
                              than when the backup was made; refused by default (the data would be unreadable)
      --allow-outside-project let a directory component this project does not declare (named with -c, restored
                              as the archive defines it) write folders outside the project folder
      --secrets <file>        the secrets archive of a split backup: both are checked before any change and
                              restored as one operation; one of another backup run is refused unless
      --allow-mismatch        is given
${selectorHelp()}${OPENING}
${COMMON}`,
  verify: `Usage: orkestra-backup verify <file|s3://bucket/key|-> [options]

Checks an archive without any server: structure, manifest, every file's size and SHA-256,
and a deep check of each component's data. Exit 0 when sound, 1 with the list of problems.
${OPENING}${NOTIFY}
${COMMON}`,
  inspect: `Usage: orkestra-backup inspect <file|s3://bucket/key|-> [options]

Shows what an archive holds: the manifest, MongoDB namespaces with their documents, Redis
databases with their key counts and most common key prefixes, buckets with object counts and
bytes, file counts and secret file names (never their contents): what restore's selectors can pick.

      --find <glob>           instead, search the archive for the collections, Redis keys, object keys
                              and file paths whose name matches (case-sensitive; * stays within one /,
                              ** crosses it; a glob without / also matches a name's last segment): one
                              line per match with its component, database/bucket/folder, and size.
                              Exit 0 when something matches, 1 when nothing does
      --limit <n>             with --find: show the first n matches (default 100); the rest are counted
${OPENING}
${COMMON}`,
  list: `Usage: orkestra-backup list [folder|s3://bucket/prefix/] [options]

One line per archive of the folder (default ./backups/), newest first: name, size, environment,
createdAt and components from its manifest — or BROKEN with the reason when it cannot be read or
its size does not match its manifest (cut short). An encrypted archive no key given opens is
listed as ENCRYPTED, never as broken.
${OPENING}
${COMMON}`,
  prune: `Usage: orkestra-backup prune <folder|s3://bucket/prefix/> --keep-<rule> N … [options]

Removes the archives of this environment (--env, else ORKESTRA_ENV, else local) that no rule
keeps, by restic's forget rules: each rule keeps the newest archive of each of its N most recent
periods (UTC, by the manifest's createdAt); the union of the rules is kept. Only files named
orkestra-backup-<env>-<stamp>.tar.gz are candidates. A broken or empty archive never takes a
good one's place: it is listed and left alone. The newest sound archive is always kept, and so is
the newest sound archive without an anomaly (per the folder's history file), whatever the rules say.

      --keep-last N           the N newest
      --keep-hourly N         --keep-daily N  --keep-weekly N (ISO weeks)  --keep-monthly N  --keep-yearly N
  -n, --dry-run               list every archive with keep or remove and the rule that keeps it; remove nothing
      --remove-broken         remove broken archives too

Encrypted archives no key given opens are judged by their names (a backup host may hold only the
recipients). The secrets archives of split backups (…-secrets.tar.gz) are pruned as a series of their own.
${OPENING}
${COMMON}`,
  drill: `Usage: orkestra-backup drill <file|s3://bucket/key|latest> [options]

Proves an archive restores: checks it, starts throwaway copies of the live containers (same
image, command and environment; named orkestra-drill-<id>-<component>, on a network of their
own with nothing published, labelled orkestra-backup.drill=<id>), restores the archive into them
exactly as restore does (secrets into a temporary folder, never docker/), then checks the data:
MongoDB document counts per namespace, Redis loaded with the RDB's key count and a sample of
its keys, every S3 object's size and SHA-256, secret files byte-identical and their encryption
keys, plus the canaries of orkestra-backup.json. Everything it started is removed at the end,
after a failure and on Ctrl-C. The live containers and docker/ are only read.

  latest                      the newest sound archive of ./backups (or of --from)
      --from <folder|s3://…/> where latest looks
      --image <comp>=<image>  start this component's copy from an image (when no live container runs)
      --cleanup               remove the containers, networks and volumes of drills killed outright on
                              this host (a drill does it for its own project when it starts)
  -c, --components <list>     with selectors: the component a selector picks from, when several take it

Exit codes: 0 every check passed, 1 a check or a restore failed (named in the report), 2 the
archive is bad or a selector is refused.
${drillSelectorHelp()}${OPENING}${NOTIFY}
${COMMON}`,
  status: `Usage: orkestra-backup status [--json] [--metrics FILE] [options]

The health of this environment's backups, from files alone (no Docker, no server): per component,
the newest sound backup in ./backups/ and in ORKESTRA_OFFSITE when set, its age and size and how
long its backup took; the last drill's result and each component's restore time in it; whether
docker/.env's encryption keys still match the newest backup's fingerprints (key drift); and the
anomalies of the newest backups not accepted since (from backups/.orkestra-backup-history.jsonl).

      --metrics <file>        also write the figures in the Prometheus text format for node_exporter's
                              textfile collector (orkestra_backup_*), atomically: written beside, then renamed

Exit codes: 0 healthy; 1 not, each reason on a line of its own: no sound backup, the newest one
older than health.maxAgeHours of orkestra-backup.json (default 26), a destination that cannot be
read, the last drill failed, or an anomaly is open; 2 bad input.
${OPENING}
${COMMON}`,
  history: `Usage: orkestra-backup history [folder|s3://bucket/prefix/] [--json] [--limit N]

Every backup, restore, drill, verify and prune appends one line to the deployment's history,
backups/.orkestra-backup-history.jsonl (mode 0600; one history per deployment, wherever --output
put the archive): command, start and end, result and exit code, the one-line error (secret
values masked), the archives (path or URL, size, backupId), per component its bytes and seconds,
and for a backup what each component held (its shape) and its anomalies. Bad input (exit 2), dry
runs and runs outside a project are not recorded. A backup to s3:// also stores its record
beside the archive (<archive>.history.json), so another host reads it with
history s3://bucket/prefix/. Needs no Docker.

  folder                      read <folder>/.orkestra-backup-history.jsonl instead of ./backups'
  s3://bucket/prefix/         read the records stored beside the archives of that prefix
      --limit N               the N most recent runs (default 20), oldest first: the last line is the latest
      --json                  {"history": <where>, "records": [...], "unreadable": <lines skipped>}

${COMMON}`,
  accept: `Usage: orkestra-backup accept <file|s3://bucket/key> [options]

Says that an archive's anomalies were intended (old data cleaned up): its manifest is read and its
size checked, then an "accept" record naming it is appended to the history
(backups/.orkestra-backup-history.jsonl), so the next backup is compared with it. To accept the
backup being made, use backup --accept-anomaly instead.
${OPENING}
${COMMON}`,
};

/**
 * The components' restore selectors, from their declarations: with any of them, a restore brings
 * back only the components they pick from, only what they pick (docs/restore-one-thing.md).
 */
function selectorHelp(): string {
  if (RESTORE_SELECTORS.length === 0) return '';
  return `
Restore one thing (only the components a selector picks from; a selector matching nothing is refused):
${selectorRows(RESTORE_SELECTORS)}
`;
}

/** The selectors a drill takes: those that narrow, not those that send a restore beside (a drill always is). */
function drillSelectorHelp(): string {
  const taken = RESTORE_SELECTORS.filter((selector) => !selector.beside && selector.notInDrill === undefined);
  if (taken.length === 0) return '';
  const refused = RESTORE_SELECTORS.filter((selector) => !taken.includes(selector)).map(({ flag }) => `--${flag}`);
  return `
Drill one thing (restore only what a selector picks into the copies, and check exactly that; a
selector matching nothing is refused; canaries are checked by a whole drill only):
${selectorRows(taken)}${
    refused.length > 0
      ? `
  Refused (a drill always restores beside, into empty copies): ${refused.join(', ')}`
      : ''
  }
`;
}

function selectorRows(selectors: readonly RestoreSelector[]): string {
  const rows = selectors.map(({ flag, value, repeatable, help }) => {
    const option = value === undefined ? `--${flag}` : `--${flag} <${value}>`;
    const notes = [repeatable ? 'repeatable' : '', selectorOwners(flag).join(', ')].filter((note) => note !== '').join('; ');
    return `      ${option.padEnd(24)}${option.length > 23 ? `\n${' '.repeat(30)}` : ''}${help}\n${' '.repeat(30)}(${notes})`;
  });
  return rows.join('\n');
}

export function helpText(command?: Exclude<CommandName, 'help'>): string {
  return `${command ? COMMAND_HELP[command] : TOOL_HELP}\n`;
}
