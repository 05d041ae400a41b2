import { sha256Of } from '../../integrity/sha256.js';
import { z } from 'zod';
import type { CanaryKind, DrillCheck, DrillSupport } from '../../core/component.js';
import type { Canary } from '../../core/component.js';
import { formatBytes, plural } from '../../base/format.js';
import { archivedBucketNames, archivedObjects, type ArchivedObject } from '../../s3/rustfs/archivedObjects.js';
import { connectProjectStore, RUSTFS_DEFAULT_CONTAINER } from '../../s3/rustfs/projectStore.js';
import type { ObjectStore } from '../../s3/client/store.js';
import { objectSelection } from './selection.js';

/** The port the copy's S3 server listens on, on the drill's own network (RustFS's default). */
const DRILL_S3_PORT = 9000;
/** How many differing objects a failed check names. */
const NAMED = 3;

const S3CanarySchema = z.strictObject({
  bucket: z.string().min(1),
  key: z.string().min(1),
  minSize: z.number().int().nonnegative().optional(),
});
type S3Canary = Canary<z.infer<typeof S3CanarySchema>>;

/** `{ "s3": { "bucket": "assets", "key": "logo.png", "minSize": 10 } }`: an object that must be there (operators know the store as S3). */
const s3Canary: CanaryKind<z.infer<typeof S3CanarySchema>> = {
  key: 's3',
  schema: S3CanarySchema,
  label: ({ bucket, key }) => `s3 object ${bucket}/${key}`,
};

/**
 * The object store in a drill: a copy of the live server listening on 9000 of the drill's
 * network (RUSTFS_ADDRESS, as RustFS reads it); every archived object read back from it whole,
 * its size and SHA-256 compared with the archive's index; then the operator's object canaries.
 */
export const rustfsDrill: DrillSupport = {
  canary: s3Canary,
  container: {
    defaultName: RUSTFS_DEFAULT_CONTAINER,
    env: { RUSTFS_ADDRESS: `0.0.0.0:${DRILL_S3_PORT}` },
    settings: (address) => ({ RUSTFS_ENDPOINT: `http://${address}:${DRILL_S3_PORT}` }),
    ready: async ({ project, services }) => {
      const store = await connectProjectStore(project, services);
      try {
        await store.listBuckets();
        return true;
      } finally {
        store.destroy();
      }
    },
  },

  checksSelection: true,

  async check({ project, services, source, canaries, progress, signal, selection }) {
    const store = await connectProjectStore(project, services);
    try {
      const buckets = await archivedBucketNames(source);
      if (selection) {
        const scope = objectSelection(selection, buckets);
        const objects = selected(archivedObjects(source, buckets), (object) => scope.selects(object.bucket, object.key));
        const check = await objectsCheck(store, objects, services.tuning.s3Concurrency, progress, signal);
        const others = await nothingElse(store, (bucket, key) => scope.selects(bucket, key));
        return [{ ...check, name: 'every selected object present with its size and SHA-256' }, others];
      }
      const objects = archivedObjects(source, buckets);
      const checks = [await objectsCheck(store, objects, services.tuning.s3Concurrency, progress, signal)];
      for (const canary of canaries) checks.push(await canaryCheck(store, canary));
      return checks;
    } finally {
      store.destroy();
    }
  },
};

async function* selected(
  objects: AsyncIterable<ArchivedObject>,
  picks: (object: ArchivedObject) => boolean,
): AsyncGenerator<ArchivedObject> {
  for await (const object of objects) if (picks(object)) yield object;
}

/** A selective drill's copy started empty: it holds the selected objects and nothing else. */
async function nothingElse(store: ObjectStore, picks: (bucket: string, key: string) => boolean): Promise<DrillCheck> {
  const named: string[] = [];
  let found = 0;
  let others = 0;
  for (const bucket of await store.listBuckets()) {
    for await (const object of store.listObjects(bucket)) {
      found += 1;
      if (picks(bucket, object.key)) continue;
      others += 1;
      if (named.length < NAMED) named.push(`${bucket}/${object.key}`);
    }
  }
  return {
    name: 'the copy holds no object outside the selection',
    ok: others === 0,
    expected: 'no other object',
    measured: others === 0 ? `${plural(found, 'object')}, all selected` : `${plural(others, 'other')}: ${named.join(', ')}`,
  };
}

async function objectsCheck(
  store: ObjectStore,
  objects: AsyncIterable<ArchivedObject>,
  concurrency: number,
  progress: { advance(bytes: number): void },
  signal: AbortSignal,
): Promise<DrillCheck> {
  let count = 0;
  let bytes = 0;
  const wrong: string[] = [];
  const iterator = objects[Symbol.asyncIterator]();
  const worker = async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const object = next.value;
      count += 1;
      bytes += object.size;
      const problem = await compareObject(store, object, signal);
      if (problem) wrong.push(problem);
      progress.advance(object.size);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return {
    name: 'every archived object present with its size and SHA-256',
    ok: wrong.length === 0,
    expected: `${plural(count, 'object')}, ${formatBytes(bytes)}`,
    measured: wrong.length === 0 ? `all ${count} identical` : `${wrong.length} wrong: ${wrong.slice(0, NAMED).join('; ')}`,
  };
}

/** Reads one object back whole; what is wrong with it, or undefined. */
async function compareObject(store: ObjectStore, object: ArchivedObject, signal: AbortSignal): Promise<string | undefined> {
  const name = `${object.bucket}/${object.key}`;
  const size = await store.objectSize(object.bucket, object.key);
  if (size === undefined) return `${name} missing`;
  if (size !== object.size) return `${name} is ${size} bytes, not ${object.size}`;
  if (!object.sha256) return undefined; // archives of the original scripts record no checksum
  const { body } = await store.getObject(object.bucket, object.key, signal);
  return (await sha256Of(body)) === object.sha256 ? undefined : `${name} differs from the archive (SHA-256)`;
}

async function canaryCheck(store: ObjectStore, given: Canary): Promise<DrillCheck> {
  if (given.component !== 'rustfs') throw new Error(`a ${given.component} canary given to rustfs`);
  const canary = given as S3Canary;
  const size = await store.objectSize(canary.bucket, canary.key);
  const minimum = canary.minSize ?? 0;
  return {
    name: canary.label,
    canary: canary.label,
    ok: size !== undefined && size >= minimum,
    expected: `${canary.bucket}/${canary.key}${minimum > 0 ? ` of at least ${formatBytes(minimum)}` : ''}`,
    measured: size === undefined ? 'no such object' : formatBytes(size),
  };
}
