import { z } from 'zod';
import type { CanaryKind, DrillCheck, DrillSupport } from '../../core/component.js';
import type { Canary } from '../../core/component.js';
import { plural } from '../../base/format.js';
import { readDump } from '../../mongo/archivedDump.js';
import { MONGODB_DEFAULT_CONTAINER, resolveAccess } from '../../mongo/projectMongo.js';
import { targetNamespace } from '../../mongo/remap.js';
import { MongoUnreachable, withMongoServer, type MongoServer } from '../../mongo/serverCounts.js';
import { chooseCollections, mongoSelection } from './selection.js';

const MONGO_PORT = 27017;
const NAMED = 3;

const count = z.number().int().nonnegative();

const MongoCanarySchema = z.strictObject({
  collection: z.string().min(1),
  /** A MongoDB query filter, as the driver's countDocuments takes it. */
  filter: z.record(z.string(), z.unknown()).optional(),
  min: count.optional(),
  exact: count.optional(),
});
type MongoCanary = Canary<z.infer<typeof MongoCanarySchema>>;

/** `{ "mongodb": { "collection": "users", "filter": { "role": "admin" }, "min": 1 } }`: documents that must be there. */
const mongodbCanary: CanaryKind<z.infer<typeof MongoCanarySchema>> = {
  key: 'mongodb',
  schema: MongoCanarySchema,
  label: ({ collection, filter, min, exact }) => {
    const bound = exact !== undefined ? `= ${exact}` : `≥ ${min ?? 1}`;
    return `mongodb ${collection}${filter ? ` ${JSON.stringify(filter)}` : ''} ${bound}`;
  },
  problem: ({ min, exact }) => (min !== undefined && exact !== undefined ? 'give "min" or "exact", not both' : undefined),
};

interface RestoredMongo {
  sourceDb: string;
  targetDb: string;
  container: string;
  reported: Record<string, { documents: number; failures: number }>;
}

/**
 * MongoDB in a drill: every namespace of the dump (read by the tool's own archive reader)
 * restored with its document count, as mongorestore reported it and as the server counts it
 * through the official driver; then the operator's collection canaries, which need the server.
 */
export const mongodbDrill: DrillSupport = {
  canary: mongodbCanary,
  // Through MONGO_URI a restore would reach the live server; the drill's copy is a container.
  liveOnlySettings: ['MONGO_URI'],
  // The copy is thrown away: no safety dump of its database before --drop.
  drillSettings: { ORKESTRA_KEEP_MONGODB: 'no' },
  container: {
    defaultName: MONGODB_DEFAULT_CONTAINER,
    ready: async ({ project, services }) => {
      const name = project.containerName('mongodb', MONGODB_DEFAULT_CONTAINER);
      const ping = await services
        .docker()
        .exec(name, ['mongosh', '--quiet', '--norc', '--eval', 'db.runCommand({ ping: 1 }).ok'])
        .catch((error: Error) => ({ exitCode: 127, stdout: '', stderr: error.message }));
      // An image without mongosh cannot be asked; mongorestore reports a server that is not up.
      if (ping.exitCode === 126 || ping.exitCode === 127 || /executable file not found/.test(ping.stderr)) return true;
      return ping.exitCode === 0 && ping.stdout.includes('1');
    },
  },

  checksSelection: true,

  async check({ project, services, source, restored, canaries, selection }) {
    const details = restored.details as unknown as RestoredMongo;
    const dump = await readDump(source);
    const picked = mongoSelection(selection);
    const namespaces =
      picked && dump ? chooseCollections(dump.namespaces, picked, details.sourceDb, source.archiveName).namespaces : dump?.namespaces;
    const expected = new Map<string, number>();
    for (const namespace of namespaces ?? []) {
      if (namespace.type === 'view') continue; // a view holds no documents of its own
      const target = targetNamespace(namespace.db, namespace.collection, details.sourceDb, details.targetDb);
      if (target) expected.set(target, namespace.documents);
    }
    const total = [...expected.values()].reduce((sum, count) => sum + count, 0);
    const described = `${plural(expected.size, 'namespace')}, ${plural(total, 'document')} (the ${picked ? "selection's" : "archive's"} dump)`;
    const checks: DrillCheck[] = [
      compared(
        'documents restored per namespace, as mongorestore reported',
        described,
        expected,
        (name) => details.reported[name]?.documents,
      ),
    ];
    if (picked) checks.push(onlySelected(expected, details.reported));
    const docker = services.docker();
    const access = await resolveAccess(project, docker);
    const host = (await docker.container(details.container))?.networkAddresses[0] ?? '127.0.0.1';
    try {
      await withMongoServer({ host, port: MONGO_PORT, username: access.username, password: access.password }, async (server) => {
        const counted = new Map<string, number>();
        for (const name of expected.keys()) counted.set(name, await server.count(name));
        checks.push(compared('documents per namespace, counted on the server', described, expected, (name) => counted.get(name)));
        for (const canary of canaries) checks.push(await collectionCanary(server, canary, details.targetDb));
      });
    } catch (error) {
      if (!(error instanceof MongoUnreachable)) throw error;
      checks.push({
        name: 'documents per namespace, counted on the server',
        ok: true,
        expected: described,
        measured: 'not counted',
        skipped: error.message,
      });
      for (const canary of canaries) {
        checks.push({ name: canary.label, canary: canary.label, ok: false, expected: expectation(canary), measured: error.message });
      }
    }
    return checks;
  },
};

/** A selective drill restores the selected namespaces only: mongorestore reports no other. */
function onlySelected(expected: ReadonlyMap<string, number>, reported: RestoredMongo['reported']): DrillCheck {
  const others = Object.keys(reported).filter((name) => !expected.has(name));
  return {
    name: 'no namespace outside the selection restored, as mongorestore reported',
    ok: others.length === 0,
    expected: 'none',
    measured: others.length === 0 ? 'none' : `${plural(others.length, 'namespace')}: ${others.slice(0, NAMED).join(', ')}`,
  };
}

function compared(
  name: string,
  described: string,
  expected: ReadonlyMap<string, number>,
  measuredOf: (namespace: string) => number | undefined,
): DrillCheck {
  const wrong: string[] = [];
  for (const [namespace, documents] of expected) {
    const measured = measuredOf(namespace);
    if (measured !== documents) wrong.push(`${namespace}: ${measured ?? 'not reported'} instead of ${documents}`);
  }
  return {
    name,
    ok: wrong.length === 0,
    expected: described,
    measured: wrong.length === 0 ? 'every count matches' : `${wrong.length} differ: ${wrong.slice(0, NAMED).join('; ')}`,
  };
}

export async function collectionCanary(server: MongoServer, given: Canary, database: string): Promise<DrillCheck> {
  if (given.component !== 'mongodb') throw new Error(`a ${given.component} canary given to mongodb`);
  const canary = given as MongoCanary;
  const count = await server.count(`${database}.${canary.collection}`, canary.filter ?? {});
  const ok = canary.exact !== undefined ? count === canary.exact : count >= (canary.min ?? 1);
  return { name: canary.label, canary: canary.label, ok, expected: expectation(canary), measured: plural(count, 'document') };
}

function expectation(given: Canary): string {
  if (given.component !== 'mongodb') return given.label;
  const canary = given as MongoCanary;
  const bound = canary.exact !== undefined ? `exactly ${canary.exact}` : `at least ${canary.min ?? 1}`;
  return `${bound} in ${canary.collection}${canary.filter ? ` matching ${JSON.stringify(canary.filter)}` : ''}`;
}
