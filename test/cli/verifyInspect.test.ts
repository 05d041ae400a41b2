import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/mongodump/', import.meta.url));
const RDB = readFileSync(fileURLToPath(new URL('../fixtures/redis-7.0-one-key.rdb', import.meta.url)));
let project: string;

beforeAll(async () => {
  project = await makeProject({ env: 'MONGO_DATABASE=orkestra\n' });
});

interface File {
  path: string;
  content: Buffer | string;
}

/** An archive as the tool writes it (manifest first, with sizes and SHA-256), around the given files. */
async function archiveOf(name: string, files: File[], details: Record<string, unknown>, sha256Of: File[] = files): Promise<string> {
  const components = [...new Set(files.map((file) => file.path.split('/')[0]))];
  const manifest = manifestFor(sha256Of, { components, details, tool: { name: 'orkestra-backup', version: '0.1.0' } });
  const path = join(project, 'backups', name);
  await writeRawArchive(path, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
  return path;
}

function mongoFiles(fixture: string, dump = gzipSync(readFileSync(join(FIXTURES, fixture)))): File[] {
  return [
    { path: 'mongodb/database.txt', content: 'test\n' },
    { path: 'mongodb/mongo.archive.gz', content: dump },
  ];
}

const run = (args: string[]) => runCli(args, { cwd: project });

describe('verify and inspect, without any server', () => {
  it('inspect lists MongoDB namespaces with type, documents, bytes and where they would be restored', async () => {
    const file = await archiveOf('mongo.tar.gz', mongoFiles('test.bar.archive'), { mongodb: { database: 'test' } });
    const result = await run(['inspect', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('database test, remapped to orkestra (MONGO_DATABASE); dump by mongodump r3.4.3 of server 3.4.3');
    expect(result.stdout).toContain('test.bar  collection  1 document  35 B  → orkestra.bar');
    expect(result.stdout).toContain('admin.system.version  collection  1 document  59 B  → not restored');
    const json = JSON.parse((await run(['inspect', file, '--json'])).stdout);
    expect(json.components.mongodb.namespaces[0]).toEqual({
      namespace: 'test.bar',
      type: 'collection',
      documents: 1,
      bytes: 35,
      crcMatches: true,
      restoredAs: 'orkestra.bar',
    });
  });

  it('verify of a sound archive with a time-series dump exits 0', async () => {
    const file = await archiveOf('ts.tar.gz', mongoFiles('timeseries.archive'), { mongodb: { database: 'test' } });
    const result = await run(['verify', file]);
    expect(result.stdout).toContain('timeseries_test.system.buckets.foo_ts  timeseries buckets  10 documents');
    expect(result.stdout).toContain('Result: sound.');
    expect(result.code).toBe(0);
  });

  it('verify reports bad-format.archive (invalid metadata) with exit 1, not a crash', async () => {
    const file = await archiveOf('bad.tar.gz', mongoFiles('bad-format.archive'), { mongodb: { database: 'test' } });
    const result = await run(['verify', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('  - mongodb: the metadata of test.ixtest is not valid Extended JSON');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('verify finds a damaged document by its namespace CRC-64 even when the file checksums match', async () => {
    const bytes = Buffer.from(readFileSync(join(FIXTURES, 'test.bar.archive')));
    bytes[bytes.indexOf(Buffer.from([35, 0, 0, 0, 0x07, 0x5f, 0x69, 0x64])) + 20] ^= 0x01;
    const file = await archiveOf('crc.tar.gz', mongoFiles('test.bar.archive', gzipSync(bytes)), { mongodb: { database: 'test' } });
    const result = await run(['verify', file, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).problems).toEqual(['mongodb: test.bar fails its CRC-64 check']);
  });

  it('verify checks the RDB header and checksum, and that the AOF manifest names files that exist', async () => {
    const layout = 'dir=/data\ndbfilename=dump.rdb\nappenddirname=appendonlydir\nappendfilename=appendonly.aof\nappendonly=yes\n';
    const aofManifest = 'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n';
    const sound = [
      { path: 'redis/redis-layout.txt', content: layout },
      { path: 'redis/dump.rdb', content: RDB },
      { path: 'redis/appendonlydir/appendonly.aof.1.base.rdb', content: RDB },
      { path: 'redis/appendonlydir/appendonly.aof.1.incr.aof', content: '*1\r\n$5\r\nMULTI\r\n' },
      { path: 'redis/appendonlydir/appendonly.aof.manifest', content: aofManifest },
    ];
    const good = await run(['verify', await archiveOf('redis.tar.gz', sound, {})]);
    expect(good.stdout).toContain('dump.rdb 99 B (RDB version 10, checksum ok)');
    expect(good.code).toBe(0);

    const damagedRdb = Buffer.from(RDB);
    damagedRdb[30] ^= 0x01;
    const broken = [...sound.slice(0, 1), { path: 'redis/dump.rdb', content: damagedRdb }, ...sound.slice(2, 3), ...sound.slice(4)];
    const bad = await run(['verify', await archiveOf('redis-bad.tar.gz', broken, {}), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problems).toEqual([
      'redis: redis/dump.rdb: the RDB file fails its CRC-64 checksum (truncated or damaged)',
      'redis: the AOF manifest names appendonly.aof.1.incr.aof, which is not in the archive',
    ]);
  });

  it('verify checks every object listed for rustfs is present with its size; inspect shows buckets', async () => {
    const files = [
      { path: 'rustfs/avatars/a.png', content: 'png' },
      { path: 'rustfs/docs.v2/x/y.txt', content: 'hello' },
    ];
    const details = {
      rustfs: {
        buckets: [
          { name: 'avatars', objects: [{ key: 'a.png', path: 'a.png', size: 3 }] },
          {
            name: 'docs.v2',
            objects: [
              { key: 'x/y.txt', path: 'x/y.txt', size: 5 },
              { key: 'gone.txt', path: 'gone.txt', size: 1 },
            ],
          },
          { name: 'empty', objects: [] },
        ],
      },
    };
    const file = await archiveOf('s3.tar.gz', files, details);
    const inspect = await run(['inspect', file]);
    expect(inspect.stdout).toContain('avatars  1 object  3 B');
    const verify = await run(['verify', file]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain("rustfs/docs.v2/gone.txt is in the manifest's object list but not in the archive");
  });

  it('verify lists a failed SHA-256 and inspect never prints secret contents', async () => {
    const files = [{ path: 'secrets/.env', content: 'MONGO_ROOT_PASSWORD=do-not-print-me\n' }];
    const file = await archiveOf('tampered.tar.gz', files, {}, [
      { path: 'secrets/.env', content: 'MONGO_ROOT_PASSWORD=original-value!\n' },
    ]);
    const verify = await run(['verify', file]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('secrets/.env fails its SHA-256 checksum');
    const inspect = await run(['inspect', file, '--json']);
    expect(inspect.stdout + inspect.stderr).not.toContain('do-not-print-me');
    expect(JSON.parse(inspect.stdout).components.secrets).toEqual({ files: [{ path: '.env', size: 36 }] });
  });

  it('verify and inspect of something that is not an archive exit 2 like restore, with one line naming it; --json answers too', async () => {
    const path = join(project, 'backups', 'not-an-archive.tar.gz');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, randomBytes(4096)));
    for (const command of ['verify', 'inspect', 'restore']) {
      const result = await run([command, path, ...(command === 'restore' ? ['--dry-run'] : [])]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('not-an-archive.tar.gz is not a .tar.gz archive');
      expect(result.stdout).not.toMatch(/Verified/);
    }
    const json = await run(['inspect', path, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    const missing = await run(['verify', join(project, 'nope.tar.gz')]);
    expect(missing.code).toBe(2);
  });

  it('inspect --json says ok; verify of a sound archive has no "Verified" header above its result', async () => {
    const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
    const archive = backup.stdout.trim();
    expect(JSON.parse((await run(['inspect', archive, '--json'])).stdout).ok).toBe(true);
    const verified = await run(['verify', archive]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).not.toContain('Verified');
    expect(verified.stdout).toMatch(/Result: sound\.\n$/);
  });
});
