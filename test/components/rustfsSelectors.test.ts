import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { hasTmux, TerminalSession } from '../helpers/tmux.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { readTarBytes, writeTarBytes } from '../helpers/archives.js';
import { deleteObject, putObject, s3Client, seed, snapshotStore, type StoredObject } from '../helpers/s3.js';
import { startS3, uniqueName, type StackContext } from '../engine/stack.js';

/** --objects and --to-bucket against a real S3 protocol server (s3rver; MinIO with ORKESTRA_TEST_IMAGES=upstream). */
const ACCESS = 'pick-access';
const SECRET = 'pick-secret-Zq81';
const containers = new Containers();
let stack: StackContext;

beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

async function newStore() {
  const container = containers.track(await startS3(stack, uniqueName('okb-objpick'), { accessKey: ACCESS, secretKey: SECRET }));
  const project = await makeProject({ keys: false });
  const env: Record<string, string> = { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET };
  if (imageMode !== 'upstream') env.RUSTFS_ENDPOINT = container.endpoint;
  await writeDotenv(project, env);
  return { name: container.name, project, endpoint: container.endpoint, client: s3Client(container.endpoint, ACCESS, SECRET) };
}
type Store = Awaited<ReturnType<typeof newStore>>;

function run(store: Store, args: string[]) {
  return runCli([...args, '--container', `rustfs=${store.name}`], { cwd: store.project, env: engineEnv(), timeoutMs: 300_000 });
}

const body = (text: string) => Buffer.from(`${text}\n`.repeat(50));

/** A store with two buckets, backed up; then changed: one selected object overwritten, two deleted, one added, and others outside the selection changed. */
async function backedUpThenChanged() {
  const store = await newStore();
  await seed(
    store.client,
    ['avatars', 'docs'],
    [
      { bucket: 'avatars', key: 'users/1/a.png', body: body('a'), contentType: 'image/png', metadata: { owner: 'ada' } },
      { bucket: 'avatars', key: 'users/10/c.png', body: body('c') },
      { bucket: 'avatars', key: 'users/2/b.png', body: body('b') },
      { bucket: 'avatars', key: 'users/9/z.png', body: body('z') },
      { bucket: 'avatars', key: 'public/x.png', body: body('x') },
      { bucket: 'docs', key: 'readme.txt', body: body('readme') },
    ],
  );
  const original = await snapshotStore(store.client);
  const backup = await run(store, ['backup', '-c', 'rustfs', '-y']);
  expect(backup.code).toBe(0);
  await putObject(store.client, { bucket: 'avatars', key: 'users/1/a.png', body: body('a changed') });
  await deleteObject(store.client, 'avatars', 'users/2/b.png');
  await deleteObject(store.client, 'avatars', 'users/9/z.png');
  await putObject(store.client, { bucket: 'avatars', key: 'users/3/new.png', body: body('new') });
  await putObject(store.client, { bucket: 'avatars', key: 'users/10/c.png', body: body('c changed') });
  await putObject(store.client, { bucket: 'avatars', key: 'public/x.png', body: body('x changed') });
  await putObject(store.client, { bucket: 'docs', key: 'readme.txt', body: body('readme changed') });
  return { store, archive: backup.stdout.trim(), original, changed: await snapshotStore(store.client) };
}

function withoutAside(snapshot: Record<string, StoredObject>) {
  return Object.fromEntries(Object.entries(snapshot).filter(([key]) => !key.startsWith('orkestra-pre-restore-')));
}

/** The screen wraps long lines at its width: compared without any white space. */
function unwrapped(text: string): string {
  return text.replace(/\s+/g, '');
}

const SELECTED = ['avatars/users/1/a.png', 'avatars/users/2/b.png', 'avatars/users/9/z.png'];

describeEngine('restore --objects and --to-bucket', () => {
  it('--objects restores exactly the selected objects, keeps what it overwrites, and every other object stays byte-identical; the dry run counts and changes nothing', async () => {
    const { store, archive, original, changed } = await backedUpThenChanged();
    const selectors = ['--objects', 'avatars/users/1/', '--objects', 'avatars/users/2/', '--objects', 'avatars/users/9'];

    const dryRun = await run(store, ['restore', archive, ...selectors, '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      '--objects avatars/users/1/: 1 object in the archive: 0 to add, 1 to overwrite (different), 0 identical',
    );
    expect(dryRun.stdout).toContain(
      '--objects avatars/users/2/: 1 object in the archive: 1 to add, 0 to overwrite (different), 0 identical',
    );
    expect(dryRun.stdout).toContain(
      '--objects avatars/users/9: 1 object in the archive: 1 to add, 0 to overwrite (different), 0 identical',
    );
    expect(dryRun.stdout).toContain('bucket avatars: exists — 2 to add, 1 to overwrite, 0 unchanged, 0 only in the target (kept)');
    expect(dryRun.stdout).not.toContain('bucket docs');
    expect(await snapshotStore(store.client)).toEqual(changed);

    const restore = await run(store, ['restore', archive, ...selectors, '-y']);
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(
      /3 objects uploaded, 0 unchanged; 1 overwritten objects kept in bucket orkestra-pre-restore-\d{8}-\d{6}/,
    );
    const after = await snapshotStore(store.client);
    const expected = { ...changed };
    for (const key of SELECTED) expected[key] = original[key];
    expect(withoutAside(after)).toEqual(expected);
    const kept = Object.entries(after).filter(([key]) => key.startsWith('orkestra-pre-restore-') && !key.endsWith('/'));
    expect(kept.map(([key]) => key.replace(/^[^/]+\//, ''))).toEqual(['avatars/users/1/a.png']);
    expect(kept[0][1].sha256).toBe(changed['avatars/users/1/a.png'].sha256);

    // Again: everything selected is identical now, and nothing is uploaded.
    const again = await run(store, ['restore', archive, ...selectors, '--dry-run']);
    expect(again.stdout).toContain('bucket avatars: exists — 0 to add, 0 to overwrite, 3 unchanged, 0 only in the target (kept)');
  });

  it('--to-bucket writes the selection beside and leaves every live object identical; a target overlapping the selection is refused', async () => {
    const { store, archive, original, changed } = await backedUpThenChanged();

    const overlap = await run(store, ['restore', archive, '--objects', 'avatars/users/', '--to-bucket', 'avatars/users/old', '-y']);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain('--to-bucket avatars/users/old overlaps avatars/users/');
    expect(await snapshotStore(store.client)).toEqual(changed);

    const dryRun = await run(store, ['restore', archive, '--objects', 'avatars/users/', '--to-bucket', 'compare/old', '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      '--objects avatars/users/: 4 objects in the archive: 4 to add, 0 to overwrite (different), 0 identical',
    );
    expect(dryRun.stdout).toContain('bucket avatars → compare/old/avatars/: create — 4 to add');
    const beside = await run(store, ['restore', archive, '--objects', 'avatars/users/', '--to-bucket', 'compare/old', '-y']);
    expect(beside.code).toBe(0);
    const after = await snapshotStore(store.client);
    const live = Object.fromEntries(Object.entries(after).filter(([key]) => !key.startsWith('compare/')));
    expect(live).toEqual(changed);
    const restored = Object.fromEntries(Object.entries(after).filter(([key]) => key.startsWith('compare/') && !key.endsWith('/')));
    const expected = Object.fromEntries(
      Object.entries(original)
        .filter(([key]) => key.startsWith('avatars/users/'))
        .map(([key, value]) => [`compare/old/${key}`, value]),
    );
    expect(restored).toEqual(expected);

    // The whole component beside, into a bucket that exists: every bucket under its own name.
    await seed(store.client, ['whole'], []);
    const whole = await run(store, ['restore', archive, '--to-bucket', 'whole', '-y']);
    expect(whole.code).toBe(0);
    const wholeAfter = await snapshotStore(store.client);
    for (const [key, value] of Object.entries(original).filter(([name]) => !name.endsWith('/'))) {
      expect(wholeAfter[`whole/${key}`]).toEqual(value);
    }
    expect(
      Object.fromEntries(Object.entries(wholeAfter).filter(([key]) => !key.startsWith('compare/') && !key.startsWith('whole/'))),
    ).toEqual(changed);

    // Beside never overwrites: an object there that differs is refused before anything is written.
    await putObject(store.client, { bucket: 'whole', key: 'docs/readme.txt', body: body('different') });
    const before = await snapshotStore(store.client);
    const refused = await run(store, ['restore', archive, '--to-bucket', 'whole', '-y']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('whole/docs/readme.txt exists and differs from the backup; --to-bucket never overwrites.');
    expect(await snapshotStore(store.client)).toEqual(before);
  });

  it('an --objects that matches nothing in the archive is refused with exit 2 naming it, and nothing is touched', async () => {
    const { store, archive, changed } = await backedUpThenChanged();
    const none = await run(store, ['restore', archive, '--objects', 'avatars/users/1/', '--objects', 'avatars/nobody/', '-y']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--objects avatars/nobody/ matches no object of rustfs in');
    const noBucket = await run(store, ['restore', archive, '--objects', 'no-such-bucket', '--dry-run']);
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toContain('--objects no-such-bucket matches no object of rustfs');
    const invalid = await run(store, ['restore', archive, '--objects', 'Not_A_Bucket/x', '--dry-run']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('"Not_A_Bucket" is not a valid bucket name');
    expect(await snapshotStore(store.client)).toEqual(changed);
  });

  it('a selective restore checks only the objects it picks: damage in other objects (before and after them) does not stop it, damage in a picked one is refused before any change', async () => {
    const { store, archive, original, changed } = await backedUpThenChanged();
    const damaged = async (name: string, ...markers: string[]) => {
      const tar = await readTarBytes(archive);
      for (const marker of markers) {
        const at = tar.indexOf(marker);
        expect(at).toBeGreaterThan(0);
        tar[at] = 'Q'.charCodeAt(0);
      }
      const file = join(dirname(archive), name);
      await writeTarBytes(file, tar);
      return file;
    };
    const picked = await damaged('picked.tar.gz', 'a\na\na\na\n');
    const refused = await run(store, ['restore', picked, '--objects', 'avatars/users/1/', '-y']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('rustfs/avatars/users/1/a.png fails its SHA-256 checksum');
    expect(await snapshotStore(store.client)).toEqual(changed);

    const others = await damaged('others.tar.gz', 'x\nx\nx\nx\n', 'readme\nreadme\n');
    const restored = await run(store, ['restore', others, '--objects', 'avatars/users/1/', '-y']);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toContain('1 of 6 files verified: only those this restore reads');
    const after = withoutAside(await snapshotStore(store.client));
    expect(after['avatars/users/1/a.png']).toEqual(original['avatars/users/1/a.png']);
    expect(Object.keys(after).sort()).toEqual(Object.keys(changed).sort());
    for (const key of Object.keys(changed)) if (key !== 'avatars/users/1/a.png') expect(after[key]).toEqual(changed[key]);
  });

  it.skipIf(imageMode === 'upstream')(
    'a selective restore failing midway puts back every object it had changed: the overwritten one and the added ones',
    async () => {
      const { store, archive, changed } = await backedUpThenChanged();
      // The store refuses the upload of one selected object (never its copies), after others went up.
      const proxy = await refusingProxy(store.endpoint, '/avatars/users/9/z.png');
      try {
        await writeDotenv(store.project, { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET, RUSTFS_ENDPOINT: proxy.endpoint });
        const restore = await run(store, ['restore', archive, '--objects', 'avatars/users/', '-y']);
        expect(restore.code).toBe(1);
        expect(restore.stderr).toContain('objects were restored before a failure at avatars/users/9/z.png');
        expect(restore.stderr).toMatch(/4 objects it had begun to change were put back as they were/);
        expect(proxy.refused()).toBeGreaterThan(0);
        expect(withoutAside(await snapshotStore(store.client))).toEqual(changed);
      } finally {
        await proxy.close();
      }
    },
  );

  it.skipIf(imageMode === 'upstream')(
    'SIGINT while a selective restore uploads: every object it had begun to change is put back before it exits',
    async () => {
      const { store, archive, changed } = await backedUpThenChanged();
      const proxy = await refusingProxy(store.endpoint, '/avatars/users/9/z.png', 'hold');
      try {
        await writeDotenv(store.project, { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET, RUSTFS_ENDPOINT: proxy.endpoint });
        const running = startCli(['restore', archive, '--objects', 'avatars/users/', '-y', '--container', `rustfs=${store.name}`], {
          cwd: store.project,
          env: engineEnv(),
          timeoutMs: 120_000,
        });
        await proxy.uploadReached;
        running.signal('SIGINT');
        const result = await running.result;
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(/4 objects it had begun to change were put back as they were/);
        expect(withoutAside(await snapshotStore(store.client))).toEqual(changed);
      } finally {
        await proxy.close();
      }
    },
  );

  it.skipIf(imageMode === 'upstream')(
    '--to-bucket: an object appearing at a target key during the restore is refused, not overwritten, and the objects added are deleted again',
    async () => {
      const { store, archive, changed } = await backedUpThenChanged();
      const intruder = { bucket: 'compare', key: 'avatars/users/9/z.png', body: body('appeared') };
      // When the restore creates the target bucket (after its plan), another writer puts an object there first.
      const proxy = await refusingProxy(store.endpoint, '/none', 'refuse', async (method, path) => {
        if (method !== 'PUT' || path.replace(/\/$/, '') !== '/compare') return;
        await seed(store.client, ['compare'], [intruder]);
      });
      try {
        await writeDotenv(store.project, { RUSTFS_ACCESS_KEY: ACCESS, RUSTFS_SECRET_KEY: SECRET, RUSTFS_ENDPOINT: proxy.endpoint });
        const restore = await run(store, ['restore', archive, '--objects', 'avatars/users/', '--to-bucket', 'compare', '-y']);
        expect(restore.code).toBe(1);
        expect(restore.stderr).toContain('compare/avatars/users/9/z.png appeared during the restore; --to-bucket never overwrites');
        const after = await snapshotStore(store.client);
        expect(Object.fromEntries(Object.entries(after).filter(([key]) => !key.startsWith('compare/')))).toEqual(changed);
        expect(Object.keys(after).filter((key) => key.startsWith('compare/') && !key.endsWith('/'))).toEqual([
          'compare/avatars/users/9/z.png',
        ]);
        expect(after['compare/avatars/users/9/z.png'].sha256).toBe(createHash('sha256').update(intruder.body).digest('hex'));
      } finally {
        await proxy.close();
      }
    },
  );

  it.skipIf(!hasTmux)('on a terminal, the gate repeats the totals: what is replaced in place, where it writes beside (tmux)', async () => {
    const { store, archive, changed } = await backedUpThenChanged();
    const env = { DOCKER_HOST: engineEnv().DOCKER_HOST ?? '', CI: 'true' };
    const container = ['--container', `rustfs=${store.name}`];
    const inPlace = new TerminalSession(store.project, ['restore', archive, '--objects', 'avatars/users/1/', ...container], env);
    try {
      const gate = unwrapped(await inPlace.waitFor('Type "restore" to continue', 60_000));
      expect(gate).toContain(
        unwrapped(
          'rustfs: only the selection — 1 object in the archive: 0 to add, 1 to overwrite (different), 0 identical; replaces: avatars/users/1/a.png',
        ),
      );
      await inPlace.press('no', 'Enter');
      await inPlace.waitFor('EXIT=');
    } finally {
      inPlace.close();
    }
    const beside = new TerminalSession(
      store.project,
      ['restore', archive, '--objects', 'avatars/users/1/', '--to-bucket', 'compare', ...container],
      env,
    );
    try {
      const gate = await beside.waitFor('Type "restore" to continue', 60_000);
      expect(gate).toContain('will write:');
      expect(unwrapped(gate)).toContain(unwrapped('written into bucket compare/, the live target is not touched'));
      await beside.press('restore', 'Enter');
      await beside.waitFor('EXIT=0', 60_000);
    } finally {
      beside.close();
    }
    const after = await snapshotStore(store.client);
    expect(Object.fromEntries(Object.entries(after).filter(([key]) => !key.startsWith('compare/')))).toEqual(changed);
    expect(Object.keys(after).filter((key) => key.startsWith('compare/') && !key.endsWith('/'))).toEqual(['compare/avatars/users/1/a.png']);
  });
});

/**
 * Forwards to the store, but answers AccessDenied to every plain upload of `path` (`hold`: never
 * answers it, so that the test can interrupt the restore while it waits).
 */
async function refusingProxy(
  upstream: string,
  path: string,
  mode: 'refuse' | 'hold' = 'refuse',
  /** Runs before a request is forwarded, to change the store at that moment. */
  before: (method: string, path: string) => Promise<void> = async () => undefined,
) {
  const target = new URL(upstream);
  let refused = 0;
  let reached: () => void = () => undefined;
  const uploadReached = new Promise<void>((resolve) => (reached = resolve));
  const server: Server = createServer((incoming, answer) => {
    const requested = decodeURIComponent(incoming.url!.split('?')[0]);
    if (incoming.method === 'PUT' && requested === path && !incoming.headers['x-amz-copy-source']) {
      refused += 1;
      reached();
      incoming.resume();
      if (mode === 'hold') return;
      incoming.on('end', () => {
        answer.writeHead(403, { 'content-type': 'application/xml' });
        answer.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>refused by the test</Message></Error>');
      });
      return;
    }
    void before(incoming.method!, requested).then(() => {
      const forwarded = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (reply) => {
          answer.writeHead(reply.statusCode!, reply.headers);
          reply.pipe(answer);
        },
      );
      forwarded.on('error', () => answer.destroy());
      incoming.pipe(forwarded);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused: () => refused,
    uploadReached,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
