import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';
import { collectionCanary } from '../../src/components/mongodb/drill.js';
import { parseProjectConfig } from '../../src/app/projectConfig.js';
import { MongoUnreachable, withMongoServer } from '../../src/mongo/serverCounts.js';
import { freePort } from '../engine/stack.js';

/**
 * The driver paths of a drill (counts on the server, collection canaries) against CongoDB, a
 * MongoDB wire-protocol server in TypeScript (@push.rocks/smartmongo 2.2.0), through the official
 * driver. Not MongoDB: it has no authentication, so these run without credentials.
 */
let server: CongoServer;
let port: number;

beforeAll(async () => {
  port = await freePort();
  server = new CongoServer({ port });
  await server.start();
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`);
  await client.connect();
  await client
    .db('orkestra')
    .collection('users')
    .insertMany([{ role: 'admin' }, { role: 'user' }, { role: 'admin' }, { role: 'user', disabled: true }]);
  await client.close();
});
afterAll(() => server?.stop());

const canaries = parseProjectConfig(
  JSON.stringify({
    canaries: [
      { name: 'two admins', mongodb: { collection: 'users', filter: { role: 'admin' }, exact: 2 } },
      { mongodb: { collection: 'users', filter: { disabled: true }, min: 2 } },
      { mongodb: { collection: 'tenants' } },
    ],
  }),
).canaries;

describe('MongoDB counts through the driver (CongoDB wire-protocol server, no authentication)', () => {
  it('counts a namespace, whole or by filter', async () => {
    const counts = await withMongoServer({ host: '127.0.0.1', port }, async (mongo) => [
      await mongo.count('orkestra.users'),
      await mongo.count('orkestra.users', { role: 'admin' }),
      await mongo.count('orkestra.absent'),
    ]);
    expect(counts).toEqual([4, 2, 0]);
  });

  it('judges collection canaries by exact and minimum counts, naming what it found', async () => {
    const checks = await withMongoServer({ host: '127.0.0.1', port }, (mongo) =>
      Promise.all(canaries.map((canary) => collectionCanary(mongo, canary, 'orkestra'))),
    );
    expect(checks).toEqual([
      expect.objectContaining({
        name: 'two admins',
        ok: true,
        expected: 'exactly 2 in users matching {"role":"admin"}',
        measured: '2 documents',
      }),
      expect.objectContaining({ name: 'mongodb users {"disabled":true} ≥ 2', ok: false, measured: '1 document' }),
      expect.objectContaining({ name: 'mongodb tenants ≥ 1', ok: false, measured: '0 documents' }),
    ]);
  });

  it('a server that does not answer is MongoUnreachable, naming the address and never the password', async () => {
    const closed = await freePort();
    const attempt = withMongoServer({ host: '127.0.0.1', port: closed, username: 'root', password: 'never-shown-pw' }, async () => 0);
    await expect(attempt).rejects.toBeInstanceOf(MongoUnreachable);
    await expect(attempt).rejects.toThrow(new RegExp(`no MongoDB server answered at 127\\.0\\.0\\.1:${closed}`));
    await expect(attempt).rejects.not.toThrow(/never-shown-pw/);
  }, 30_000);
});
