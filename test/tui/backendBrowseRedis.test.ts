import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/tui/backend.js';
import { hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';

afterAll(stopHostRedis);

const quiet = () => undefined;

describe.skipIf(!hasRedisServer)(
  "the interface's backend: picking Redis keys of a real archive (redis-server on the host, REDIS_URL)",
  () => {
    it('lists the databases and the keys of one, turns a picked key with glob characters into an exact --keys, and restores only that key', async () => {
      const server = await startHostRedis('picker-secret');
      server.cli('SET', 'a*b', 'archived');
      server.cli('SET', 'aXb', 'archived look-alike');
      server.cli('SET', 'plain', 'archived plain');
      server.cli('-n', '2', 'SET', 'elsewhere', 'two');
      const project = await makeProject({ env: `REDIS_URL=redis://:picker-secret@127.0.0.1:${server.port}\n` });
      const backend = await createBackend({ projectDir: project, containers: {}, settings: {} });
      const signal = new AbortController().signal;
      const { archivePath } = await backend.backup(['redis'], quiet, signal);
      for (const key of ['a*b', 'aXb', 'plain']) server.cli('SET', key, 'changed');

      const databases = await backend.browse(archivePath, { component: 'redis', offset: 0, pageSize: 50 }, signal);
      expect(databases.groups).toEqual([
        { kind: 'database', name: '0', detail: '3 keys' },
        { kind: 'database', name: '2', detail: '1 key' },
      ]);
      expect(databases.read).toBe(0); // from the manifest's shape: the RDB is not walked
      const keys = await backend.browse(archivePath, { component: 'redis', group: '0', filter: 'B', offset: 0, pageSize: 50 }, signal);
      expect(keys.items.map((item) => item.name).sort()).toEqual(['a*b', 'aXb']);
      const answer = await backend.picksAsSelectors(archivePath, { redis: [{ group: '0', item: 'a*b' }] });
      expect(answer).toEqual({ selectors: { db: ['0'], keys: ['a\\*b'] }, notes: [] });
      if (!('selectors' in answer)) throw new Error('refused');

      const preview = await backend.previewRestore(archivePath, ['redis'], quiet, signal, answer.selectors);
      expect(preview.plans[0].failure).toBeUndefined();
      const outcome = await backend.restore(preview, { mode: 'move-aside' }, quiet, signal);
      expect(outcome.failed).toBeUndefined();
      expect(server.cli('GET', 'a*b')).toBe('archived');
      expect(server.cli('GET', 'aXb')).toBe('changed');
      expect(server.cli('GET', 'plain')).toBe('changed');
      expect(server.cli('-n', '2', 'GET', 'elsewhere')).toBe('two');
    });
  },
);
