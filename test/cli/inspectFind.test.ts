import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestFor, readTarBytes, writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { hasRedisServer, startHostRedis, stopHostRedis, type HostRedis } from '../helpers/hostRedis.js';
import { ENV_TEXT, makeProject } from '../helpers/project.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/mongodump/', import.meta.url));
/** No engine is needed: a Docker call would fail loudly. */
const ENV = { DOCKER_HOST: 'unix:///nonexistent.sock' };

afterAll(stopHostRedis);

describe.skipIf(!hasRedisServer)(
  'inspect --find on a backup of Redis (redis-server on the host, REDIS_URL), secrets and a directory component',
  () => {
    let redis: HostRedis;
    let project: string;
    let archive: string;
    let envText: string;

    beforeAll(async () => {
      redis = await startHostRedis('find-pw');
      for (const id of ['1', '2', '3']) redis.cli('SET', `session:${id}`, 'abc');
      redis.cli('HSET', 'user:1', 'name', 'ada');
      redis.cli('SET', 'counter', 'abc');
      redis.cli('-n', '3', 'SET', 'session:9', 'abcdef');
      envText = `${ENV_TEXT}REDIS_URL=redis://:find-pw@127.0.0.1:${redis.port}\n`;
      project = await makeProject({ env: envText });
      await writeFile(
        join(project, 'orkestra-backup.json'),
        JSON.stringify({ components: { uploads: { kind: 'directory', path: 'uploads' } } }),
      );
      await mkdir(join(project, 'uploads/avatars'), { recursive: true });
      await writeFile(join(project, 'uploads/avatars/ada.png'), 'p'.repeat(1234));
      await writeFile(join(project, 'uploads/readme.txt'), 'hello\n');
      const backup = await runCli(['backup', '-c', 'redis,secrets,uploads', '-y'], { cwd: project, env: ENV });
      expect(backup.code, backup.stderr).toBe(0);
      archive = backup.stdout.trim();
    });

    const run = (args: string[]) => runCli(['inspect', archive, ...args], { cwd: project, env: ENV });

    it('finds Redis keys by glob in every database, with their type and size in the RDB; exit 0', async () => {
      const result = await run(['--find', 'session:*']);
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines[0]).toMatch(/^4 matches of "session:\*" in orkestra-backup-.*\.tar\.gz:$/);
      // A 3-byte string is stored as its type byte, a length byte and the bytes: 5 B.
      for (const id of ['1', '2', '3']) expect(lines).toContain(`  redis  database 0  key  session:${id}  string  5 B`);
      expect(lines).toContain('  redis  database 3  key  session:9  string  8 B');
      expect(result.stdout).toContain('In all: redis 4 matches, 23 B');
      expect(result.stdout).not.toContain('user:1');
    });

    it('finds a secret file and a directory component file (by a glob without / matching the last segment), with their sizes', async () => {
      const env = await run(['--find', '.env']);
      expect(env.code).toBe(0);
      expect(env.stdout).toMatch(new RegExp(`\\n  secrets  folder docker  file  \\.env  ${Buffer.byteLength(envText)} B\\n`));
      const png = await run(['--find', '*.png']);
      expect(png.code).toBe(0);
      expect(png.stdout).toMatch(/\n {2}uploads {2}folder uploads {2}file {2}avatars\/ada\.png {2}1\.2 kB\n/);
      expect(png.stdout).toContain('1 match of "*.png"');
      expect(png.stdout + png.stderr).not.toContain('hunter2-secret');
    });

    it('--json lists each match with component, group, kind, name and bytes; --limit shows the first N and counts the rest', async () => {
      const result = await run(['--find', '*', '--json', '--limit', '2']);
      expect(result.code, result.stderr).toBe(0);
      const json = JSON.parse(result.stdout);
      expect(json).toMatchObject({ ok: true, pattern: '*', total: 11, more: 9, problems: [] });
      expect(json.matches).toHaveLength(2);
      expect(json.components).toEqual({
        redis: { matches: 6, bytes: expect.any(Number) },
        secrets: { matches: 3, bytes: expect.any(Number) },
        uploads: { matches: 2, bytes: 1240 },
      });
      const one = JSON.parse((await run(['--find', 'user:1', '--json'])).stdout);
      expect(one.matches).toEqual([
        {
          component: 'redis',
          group: { kind: 'database', name: '0' },
          kind: 'key',
          name: 'user:1',
          bytes: expect.any(Number),
          detail: 'hash',
        },
      ]);
      const text = await run(['--find', '*', '--limit', '3']);
      expect(text.stdout).toContain('  … and 8 more (--limit 3 shows the first 3)');
    });

    it('a pattern that matches nothing says so and exits 1; names are case-sensitive', async () => {
      for (const pattern of ['no-such-*', 'SESSION:*']) {
        const result = await run(['--find', pattern]);
        expect(result.code).toBe(1);
        expect(result.stdout).toContain(`matches ${JSON.stringify(pattern)} (names are case-sensitive`);
      }
      const json = await run(['--find', 'no-such-*', '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, total: 0, matches: [] });
    });

    it('a cut archive is refused with exit 2 before any search', async () => {
      const whole = readFileSync(archive);
      const cut = join(project, 'backups', 'cut.tar.gz');
      await writeFile(cut, whole.subarray(0, whole.length - 100));
      const result = await runCli(['inspect', cut, '--find', '*'], { cwd: project, env: ENV });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("cut.tar.gz: the archive's size");
      expect(result.stdout).toBe('');
    });

    it('plain inspect and verify of a cut archive say what --find says (its size does not match its manifest), exit 1, and read no component part', async () => {
      const whole = readFileSync(archive);
      const tar = await readTarBytes(archive);
      const manifest = JSON.parse(tar.subarray(512, 512 + parseInt(tar.subarray(124, 136).toString('latin1').trim(), 8)).toString());
      // Cut just after the manifest's member (inside the Redis part, read by its examine) and near the end (inside uploads).
      for (const length of [whole.length - manifest.bytesAfterManifest + 10, whole.length - 100]) {
        const cut = join(project, 'backups', `cut-${length}.tar.gz`);
        await writeFile(cut, whole.subarray(0, length));
        const said = `the archive's size (${length} bytes) does not match its manifest: cut short or extended`;
        const find = await runCli(['inspect', cut, '--find', '*'], { cwd: project, env: ENV });
        expect(find.stderr).toContain(said);
        for (const command of ['inspect', 'verify']) {
          const result = await runCli([command, cut], { cwd: project, env: ENV });
          expect(result.code, `${command} ${length}: ${result.stderr}`).toBe(1);
          expect(result.stdout).toContain(`  - ${said}`);
          expect(result.stdout).toContain("redis\n  (not read: the archive's size does not match its manifest)");
          expect(result.stderr).not.toContain('unexpected');
        }
        const json = await runCli(['inspect', cut, '--json'], { cwd: project, env: ENV });
        expect(json.code).toBe(1);
        expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [said] });
      }
    });

    it('inspect summarises each Redis database with its key count and most common prefixes', async () => {
      const result = await run([]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('  database 0: 5 keys; most common prefixes: session: 3, (no prefix) 1, user: 1');
      expect(result.stdout).toContain('  database 3: 1 key; most common prefixes: session: 1');
      expect(result.stdout).toMatch(/\nsecrets\n {2}3 files, /);
      const json = JSON.parse((await run(['--json'])).stdout);
      expect(json.components.redis.databases[0]).toEqual({
        db: 0,
        keys: 5,
        prefixes: [
          { prefix: 'session:', keys: 3 },
          { prefix: '', keys: 1 },
          { prefix: 'user:', keys: 1 },
        ],
      });
      expect(json.components.redis.prefixesApproximate).toBe(false);
    });
  },
);

describe('inspect --find on fixture archives (no server: a mongodump fixture, a hand-made object store and volume)', () => {
  let project: string;
  let archive: string;

  beforeAll(async () => {
    project = await makeProject();
    const files = [
      { path: 'mongodb/database.txt', content: 'test\n' },
      { path: 'mongodb/mongo.archive.gz', content: gzipSync(readFileSync(join(FIXTURES, 'test.bar.archive'))) },
      { path: 'rustfs/avatars/a.png', content: 'png' },
      { path: 'rustfs/docs.v2/x/y.txt', content: 'hello' },
      { path: 'graph/content.tar', content: tarOf(['./', './nested/', './nested/nodes.bin', './.hidden']) },
    ];
    const details = {
      mongodb: { database: 'test' },
      rustfs: {
        buckets: [
          { name: 'avatars', objects: [{ key: 'a.png', path: 'a.png', size: 3 }] },
          { name: 'docs.v2', objects: [{ key: 'x/y.txt', path: 'x/y.txt', size: 5 }] },
        ],
      },
      graph: {
        definition: { kind: 'volume', container: 'memgraph', path: '/var/lib/memgraph' },
        container: 'memgraph',
        path: '/var/lib/memgraph',
      },
    };
    const manifest = manifestFor(files, {
      components: ['mongodb', 'rustfs', 'graph'],
      details,
      tool: { name: 'orkestra-backup', version: '0.1.0' },
    });
    archive = join(project, 'backups', 'fixture.tar.gz');
    await writeRawArchive(archive, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
  });

  const run = (args: string[]) => runCli(['inspect', archive, ...args], { cwd: project, env: ENV });

  it('finds a MongoDB collection by its name or database.collection, with its documents and bytes', async () => {
    for (const pattern of ['bar', 'test.*']) {
      const result = await run(['--find', pattern]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/\n {2}mongodb {2}database test {2}collection {2}bar {2}1 document {2}35 B\n/);
    }
  });

  it('finds an object by its key or bucket/key, and a file of a volume by its path inside the folder', async () => {
    const object = await run(['--find', 'docs.v2/x/*', '--json']);
    expect(object.code, object.stderr).toBe(0);
    expect(JSON.parse(object.stdout).matches).toEqual([
      { component: 'rustfs', group: { kind: 'bucket', name: 'docs.v2' }, kind: 'object', name: 'x/y.txt', bytes: 5 },
    ]);
    const png = await run(['--find', 'a.png']);
    expect(png.stdout).toMatch(/\n {2}rustfs {2}bucket avatars {2}object {2}a\.png {2}3 B\n/);
    const volume = await run(['--find', 'nested/**', '--json']);
    expect(volume.code, volume.stderr).toBe(0);
    expect(JSON.parse(volume.stdout).matches).toEqual([
      {
        component: 'graph',
        group: { kind: 'volume', name: 'memgraph:/var/lib/memgraph' },
        kind: 'file',
        name: 'nested/nodes.bin',
        bytes: 17,
      },
    ]);
  });

  it('searches an archive of the original backup.sh too (no file list: its files are found by reading it)', async () => {
    const legacy = join(project, 'backups', 'orkestra-backup-staging-20260527-071724.tar.gz');
    await writeRawArchive(legacy, [
      { path: './', type: 'Directory' },
      { path: './secrets/', type: 'Directory' },
      { path: './secrets/keys/', type: 'Directory' },
      { path: './secrets/keys/jwt-private.pem', content: 'old private key\n' },
      { path: './manifest.json', content: JSON.stringify({ ...manifestFor([]), files: undefined, components: ['secrets'] }) },
    ]);
    const result = await runCli(['inspect', legacy, '--find', '*.pem'], { cwd: project, env: ENV });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('  secrets  folder docker  file  keys/jwt-private.pem  16 B\n');
  });

  it('a damaged part stops only its own search: it is listed under the problems, the other components are searched', async () => {
    const files = [
      { path: 'rustfs/avatars/a.png', content: 'png' },
      { path: 'secrets/keys/a.png', content: 'not an image' },
    ];
    const details = {
      rustfs: {
        buckets: [
          {
            name: 'avatars',
            objects: [
              { key: 'a.png', path: 'a.png', size: 3 },
              { key: 'gone.png', path: 'gone.png', size: 1 },
            ],
          },
        ],
      },
    };
    const damaged = join(project, 'backups', 'damaged.tar.gz');
    const manifest = manifestFor(files, { components: ['rustfs', 'secrets'], details });
    await writeRawArchive(damaged, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
    const result = await runCli(['inspect', damaged, '--find', '*.png'], { cwd: project, env: ENV });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('  rustfs   bucket avatars  object  a.png       3 B\n');
    expect(result.stdout).toContain('  secrets  folder docker   file    keys/a.png  12 B\n');
    expect(result.stdout).toContain(
      "Problems seen (run verify for a full check):\n  - rustfs: rustfs/avatars/gone.png is in the manifest's object list but not in the archive",
    );
    const json = JSON.parse((await runCli(['inspect', damaged, '--find', '*.png', '--json'], { cwd: project, env: ENV })).stdout);
    expect(json).toMatchObject({ ok: false, total: 2 });
  });

  it('refuses bad --find and --limit values with exit 2', async () => {
    const cases: [string[], string][] = [
      [['--limit', '5'], '--limit is for --find'],
      [['--find', 'x', '--limit', 'many'], '--limit needs a whole number'],
      [['--find', ''], '--find needs a name or a glob'],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });
});

/** An uncompressed tar as the Engine API's archive endpoint gives it: folders end with '/', files hold their path. */
function tarOf(paths: readonly string[]): Buffer {
  const blocks: Uint8Array[] = [];
  for (const path of paths) {
    const folder = path.endsWith('/');
    const content = Buffer.from(folder ? '' : `content of ${path.slice(2)}`.slice(0, 17));
    const header = new Header({ path, type: folder ? 'Directory' : 'File', size: content.length, mode: 0o644, mtime: new Date(0) });
    header.encode();
    blocks.push(header.block!);
    if (content.length > 0) blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
