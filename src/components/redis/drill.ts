import { z } from 'zod';
import type { CanaryKind, DrillCheck, DrillSupport } from '../../core/component.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import type { Canary } from '../../core/component.js';
import { plural } from '../../base/format.js';
import type { RedisCli } from '../../redis/cli.js';
import { connectRedis, REDIS_DEFAULT_CONTAINER } from '../../redis/projectRedis.js';
import { parseInfo } from '../../redis/layout.js';
import { archivedRdb } from '../../redis/archivedRdb.js';
import {
  countExpiry,
  scanRdbKeys,
  walkRdb,
  type ExpiryCounts,
  type ExpiryTimes,
  type RdbKeySample,
  type RdbKeyScan,
} from '../../redis/rdbKeys.js';
import { targetsOf, type KeySelection } from '../../redis/keySelection.js';
import { dumpPayload } from '../../redis/dumpPayload.js';
import { keySelectionOf } from './keySelectors.js';

/** What Redis writes to its log when it refuses a data file (rdb.c, aof.c). */
const LOAD_ERROR =
  /Bad file format|Short read|Wrong signature|Can't handle RDB format|Fatal error loading|Bad file format reading the append only file/i;
/** How many of the selected keys a selective drill asks for by name. */
const SAMPLE_SIZE = 20;
/** The longest value encoding a selective drill compares with the copy's (hex in redis-cli's argv, 20 of them). */
const COMPARED_VALUE_BYTES = 4096;
/** The key a selective drill's value comparison restores the archived value into, then deletes. */
const PROBE_KEY = 'orkestra-backup:drill:probe';
/**
 * Per sampled key (KEYS[i]), its archived DUMP payload (ARGV[i], hex) is restored into the probe
 * key and both are DUMPed: one server serialises the same value the same way, whatever encoding
 * the archive used. 1 same value, 0 another value, -1 no such key.
 */
const VALUE_SCRIPT = `local probe = ARGV[#KEYS + 1]
local r = {}
for i, k in ipairs(KEYS) do
  local found = redis.call('DUMP', k)
  if not found then
    r[#r + 1] = -1
  else
    local payload = string.gsub(ARGV[i], '..', function(h) return string.char(tonumber(h, 16)) end)
    redis.call('DEL', probe)
    local ok = pcall(redis.call, 'RESTORE', probe, 0, payload)
    r[#r + 1] = (ok and redis.call('DUMP', probe) == found) and 1 or 0
    redis.call('DEL', probe)
  end
end
return r`;
/** Types and absolute expiries of the sampled keys, one database per call. */
const SAMPLE_SCRIPT = `local r = {}
for _, k in ipairs(KEYS) do
  r[#r + 1] = redis.call('TYPE', k)['ok']
  local ok, at = pcall(redis.call, 'PEXPIRETIME', k)
  r[#r + 1] = ok and tostring(at) or '?'
end
return r`;

const REDIS_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream'] as const;

const RedisCanarySchema = z.strictObject({
  key: z.string().min(1),
  db: z.number().int().min(0).max(15).optional(),
  type: z.enum(REDIS_TYPES).optional(),
});
type RedisCanary = Canary<z.infer<typeof RedisCanarySchema>>;

/** `{ "redis": { "key": "orkestra:flags", "db": 2, "type": "hash" } }`: a key that must be there. */
const redisCanary: CanaryKind<z.infer<typeof RedisCanarySchema>> = {
  key: 'redis',
  schema: RedisCanarySchema,
  label: ({ key }) => `redis key ${key}`,
};

/**
 * Redis in a drill: the server loaded the restored files (not loading, no load error in its
 * log), holds as many keys as the archive's RDB, and a sample of the RDB's keys is there with
 * its type and expiry; then the operator's key canaries.
 */
export const redisDrill: DrillSupport = {
  canary: redisCanary,
  // Through REDIS_URL a restore would reach the live server; the drill's copy is a container.
  liveOnlySettings: ['REDIS_URL'],
  container: {
    defaultName: REDIS_DEFAULT_CONTAINER,
    ready: async ({ project, services }) => (await (await connectRedis(project, services.docker())).run('PING')).includes('PONG'),
  },

  checksSelection: true,

  async check({ project, services, source, canaries, selection }) {
    const docker = services.docker();
    const cli = await connectRedis(project, docker);
    if (selection) return selectionChecks(cli, source, keySelectionOf(selection));
    const persistence = await cli.persistence();
    const log = await docker.logTail(cli.container, 50).catch(() => '');
    const loadError = log.split(' / ').find((line) => LOAD_ERROR.test(line));
    const checks: DrillCheck[] = [
      {
        name: 'Redis loaded the restored files',
        ok: persistence.loading === '0' && !loadError,
        expected: 'loading:0, no load error in the log',
        measured: loadError ? `log: ${loadError}` : `loading:${persistence.loading ?? '?'}`,
      },
    ];
    // Redis loads a key that expired since the backup, or not (AOF preamble): such a key may be there or not.
    const copy = { ...(await copyKeyspace(cli)), startedBeforeMs: -Infinity };
    const scan = await scanRdbKeys(archivedRdb(source), SAMPLE_SIZE, copy);
    checks.push(keyCountCheck(copy, scan, await hasAofIncrements(source)));
    if (scan.sample.length > 0) checks.push(await sampleCheck(cli, scan.sample));
    for (const canary of canaries) checks.push(await canaryCheck(cli, canary));
    return checks;
  },
};

/**
 * A selective drill restored the selected keys of the RDB, key by key, into a copy that started
 * empty: it now holds exactly the selection's unexpired keys, and the first of them are there
 * with their type, expiry and value (a count and types alone pass values restored to the wrong keys).
 */
async function selectionChecks(cli: RedisCli, source: ComponentSource, keys: KeySelection): Promise<DrillCheck[]> {
  const copy = await copyKeyspace(cli);
  const sample: RdbKeySample[] = [];
  const payloads = new Map<RdbKeySample, string>();
  const selected: ExpiryCounts = { persistent: 0, volatile: 0, expiring: 0 };
  const target = targetsOf(keys);
  const select = (db: number, key: Buffer) => target(db, key) !== undefined;
  const walk = walkRdb(archivedRdb(source), { keepKey: () => true, values: true, valueKeepUpTo: COMPARED_VALUE_BYTES, select });
  for await (const entry of walk) {
    const expiring = selected.expiring;
    // A key that expired before the copy started was not restored; one expiring since may be there or not (not sampled).
    if (!countExpiry(selected, copy, entry.expiresAtMs) || selected.expiring > expiring) continue;
    const key = entry.key!;
    // Keys that are not UTF-8 cannot be asked for through redis-cli's argv: they are counted, not sampled.
    if (sample.length < SAMPLE_SIZE && Buffer.from(key.toString('utf8')).equals(key)) {
      const sampled = { db: entry.db, key: key.toString('utf8'), type: entry.type, expiresAtMs: entry.expiresAtMs };
      sample.push(sampled);
      if (entry.value) payloads.set(sampled, dumpPayload(entry.value, entry.version).toString('hex'));
    }
  }
  const checks: DrillCheck[] = [expiryCountCheck("the copy holds exactly the selection's keys of the archived RDB", copy, selected)];
  if (sample.length > 0) checks.push(await sampleCheck(cli, sample));
  if (payloads.size > 0) checks.push(await valueCheck(cli, payloads));
  return checks;
}

/** The copy's keys without an expiry and with one (INFO keyspace still counts those expired and not yet deleted), and when. */
interface CopyKeyspace extends ExpiryTimes {
  readonly persistent: number;
  readonly volatile: number;
}

async function copyKeyspace(cli: RedisCli): Promise<CopyKeyspace> {
  const uptimeSeconds = Number(parseInfo(await cli.run('INFO', 'server')).uptime_in_seconds);
  const startedBeforeMs = Date.now() - ((Number.isFinite(uptimeSeconds) ? uptimeSeconds : 0) + 1) * 1000;
  let persistent = 0;
  let volatile = 0;
  for (const [field, value] of Object.entries(parseInfo(await cli.run('INFO', 'keyspace')))) {
    if (!/^db\d+$/.test(field)) continue;
    const keys = Number(/keys=(\d+)/.exec(value)?.[1] ?? 0);
    const expires = Number(/expires=(\d+)/.exec(value)?.[1] ?? 0);
    persistent += keys - expires;
    volatile += expires;
  }
  return { persistent, volatile, countedAtMs: Date.now(), startedBeforeMs };
}

/**
 * The copy holds every archived key without an expiry, exactly; of those with one, every key
 * unexpired when counted, and at most the keys that expired meanwhile besides (restored, then
 * expired: Redis may not have deleted them yet, or may have).
 */
function expiryCountCheck(name: string, copy: CopyKeyspace, archived: ExpiryCounts): DrillCheck {
  const least = archived.persistent + archived.volatile;
  const persistentOk = copy.persistent === archived.persistent;
  const ok = persistentOk && copy.volatile >= archived.volatile && copy.volatile <= archived.volatile + archived.expiring;
  const measured = plural(copy.persistent + copy.volatile, 'key');
  return {
    name,
    ok,
    expected:
      archived.expiring === 0
        ? plural(least, 'key')
        : `${plural(least, 'key')} to ${plural(least + archived.expiring, 'key')} (${plural(archived.expiring, 'key')} expired since)`,
    measured: persistentOk ? measured : `${measured}, ${copy.persistent} without an expiry (${archived.persistent} archived)`,
  };
}

/** The sampled keys hold the archived values (those of at most COMPARED_VALUE_BYTES); a key gone is the sample check's to judge. */
async function valueCheck(cli: RedisCli, payloads: ReadonlyMap<RdbKeySample, string>): Promise<DrillCheck> {
  const wrong: string[] = [];
  const byDb = new Map<number, RdbKeySample[]>();
  for (const key of payloads.keys()) byDb.set(key.db, [...(byDb.get(key.db) ?? []), key]);
  for (const [db, sampled] of byDb) {
    const args = [...sampled.map((key) => key.key), ...sampled.map((key) => payloads.get(key)!), PROBE_KEY];
    const output = await cli.run('-n', String(db), 'EVAL', VALUE_SCRIPT, String(sampled.length), ...args);
    const results = output.split('\n').map((line) => line.trim());
    sampled.forEach((key, index) => {
      if (results[index] !== '1' && results[index] !== '-1') wrong.push(key.key);
    });
  }
  return {
    name: 'sampled keys hold their archived values',
    ok: wrong.length === 0,
    expected: `${plural(payloads.size, 'value')} of the RDB`,
    measured:
      wrong.length === 0
        ? `all ${payloads.size} as archived`
        : `${wrong.length} of ${payloads.size} differ: ${wrong.slice(0, 3).join(', ')}`,
  };
}

/** Writes after the snapshot (AOF increments) may add or remove keys: the count is then shown, not judged. */
async function hasAofIncrements(source: ComponentSource): Promise<boolean> {
  for await (const file of source.files()) if (/\.incr\.aof$/.test(file.path) && file.size > 0) return true;
  return false;
}

function keyCountCheck(copy: CopyKeyspace, scan: RdbKeyScan, increments: boolean): DrillCheck {
  const measured = plural(copy.persistent + copy.volatile, 'key');
  const name = 'key count equals the archived RDB';
  if (!scan.keysPerDb) {
    // A record the walk cannot step over (module data) leaves the count unjudged; a damaged one fails the drill.
    return { name, ok: !scan.damaged, expected: `not countable: ${scan.stopped}`, measured };
  }
  if (increments) {
    const expected = [...scan.keysPerDb.values()].reduce((total, keys) => total + keys, 0);
    return { name, ok: true, expected: `${plural(expected, 'key')} in the RDB, then the AOF's later writes (not judged)`, measured };
  }
  return expiryCountCheck(name, copy, scan.expiry);
}

/** The first keys of the RDB, asked for by name: each there with its type and absolute expiry (or gone because it expired). */
async function sampleCheck(cli: RedisCli, sample: readonly RdbKeySample[]): Promise<DrillCheck> {
  const wrong: string[] = [];
  const byDb = new Map<number, RdbKeySample[]>();
  for (const key of sample) byDb.set(key.db, [...(byDb.get(key.db) ?? []), key]);
  for (const [db, keys] of byDb) {
    const output = await cli.run('-n', String(db), 'EVAL', SAMPLE_SCRIPT, String(keys.length), ...keys.map((key) => key.key));
    const values = output.split('\n').map((line) => line.trim());
    keys.forEach((key, index) => {
      const [type, expiresAt] = [values[2 * index], values[2 * index + 1]];
      const expired = key.expiresAtMs !== undefined && key.expiresAtMs <= Date.now();
      if (type === 'none' && expired) return;
      if (type !== key.type) wrong.push(`${key.key} is ${type}, not ${key.type}`);
      else if (expiresAt !== '?' && Number(expiresAt) !== (key.expiresAtMs ?? -1)) {
        wrong.push(`${key.key} expires at ${expiresAt}, not ${key.expiresAtMs ?? 'never'}`);
      }
    });
  }
  return {
    name: `sampled keys present with their type and expiry`,
    ok: wrong.length === 0,
    expected: `${plural(sample.length, 'key')} of the RDB`,
    measured: wrong.length === 0 ? `all ${sample.length} as archived` : `${wrong.length} wrong: ${wrong.slice(0, 3).join('; ')}`,
  };
}

async function canaryCheck(cli: RedisCli, given: Canary): Promise<DrillCheck> {
  if (given.component !== 'redis') throw new Error(`a ${given.component} canary given to redis`);
  const canary = given as RedisCanary;
  const type = (await cli.run('-n', String(canary.db ?? 0), 'TYPE', canary.key)).trim();
  const expected = `key ${canary.key} in db ${canary.db ?? 0}${canary.type ? ` of type ${canary.type}` : ''}`;
  const ok = type !== 'none' && (canary.type === undefined || type === canary.type);
  return { name: canary.label, canary: canary.label, ok, expected, measured: type === 'none' ? 'no such key' : `a ${type}` };
}
