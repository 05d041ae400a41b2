import { randomBytes } from 'node:crypto';
import { Header } from 'tar';
import { describe, expect, it, vi } from 'vitest';
import { archivedComponent, COMPONENTS } from '../../src/components/index.js';
import { browseArchive, browsableComponents, filterMatcher, pageOf, picksAsSelectors, type BrowseRequest } from '../../src/core/browse.js';
import type { ComponentSource } from '../../src/archive/componentSource.js';
import type { IndexedFile } from '../../src/archive/fileIndex.js';
import type { FoundItem } from '../../src/core/component.js';
import { manifestFor } from '../helpers/archives.js';
import { countedArchive } from '../helpers/countedArchive.js';

const MILLION = 1_000_000;

/** A generated listing of `count` objects over `buckets` buckets (round robin), counting what is pulled from it. */
function generated(count: number, buckets = 1): { items: AsyncIterable<FoundItem>; pulled: () => number } {
  let pulled = 0;
  async function* items(): AsyncGenerator<FoundItem> {
    for (let index = 0; index < count; index += 1) {
      pulled += 1;
      yield { group: { kind: 'bucket', name: `bucket-${index % buckets}` }, kind: 'object', name: `objects/${index}.bin`, bytes: index };
    }
  }
  return { items: items(), pulled: () => pulled };
}

const request = (over: Partial<BrowseRequest>): BrowseRequest => ({ component: 'rustfs', offset: 0, pageSize: 50, ...over });
const live = () => new AbortController().signal;

describe('pageOf (the picker paging)', () => {
  it('stops a listing of 1,000,000 objects after the first page: 51 items pulled, 50 shown, more', async () => {
    const { items, pulled } = generated(MILLION);
    const page = await pageOf(items, request({ group: 'bucket-0' }), live());
    expect(page.items.map((item) => item.name)).toEqual(Array.from({ length: 50 }, (_, index) => `objects/${index}.bin`));
    expect(page.more).toBe(true);
    expect(pulled()).toBe(51);
    expect(page.read).toBe(51);
  });

  it('pages on after the offset, and the last page says no more', async () => {
    const second = await pageOf(generated(MILLION).items, request({ group: 'bucket-0', offset: 50 }), live());
    expect(second.items[0].name).toBe('objects/50.bin');
    expect(second.items).toHaveLength(50);
    const last = await pageOf(generated(120).items, request({ group: 'bucket-0', offset: 100 }), live());
    expect(last.items.map((item) => item.name)).toEqual(Array.from({ length: 20 }, (_, index) => `objects/${100 + index}.bin`));
    expect(last.more).toBe(false);
  });

  it('lists distinct groups, stopping once a page of them is full', async () => {
    const { items, pulled } = generated(MILLION, 200);
    const page = await pageOf(items, request({ pageSize: 10 }), live());
    expect(page.groups.map((group) => group.name)).toEqual(Array.from({ length: 10 }, (_, index) => `bucket-${index}`));
    expect(page.more).toBe(true);
    expect(pulled()).toBe(11);
    const filtered = await pageOf(generated(1_000, 200).items, request({ pageSize: 10, filter: 'bucket-19?' }), live());
    expect(filtered.groups.map((group) => group.name)).toEqual(Array.from({ length: 10 }, (_, index) => `bucket-${190 + index}`));
    expect(filtered.more).toBe(false);
  });

  it('gives up at once when cancelled, while the listing is still waiting for an item; the listing is closed once that item comes', async () => {
    let release = () => undefined as void;
    let closed = false;
    async function* stuck(): AsyncGenerator<FoundItem> {
      try {
        yield { group: { kind: 'bucket', name: 'b' }, kind: 'object', name: 'a', bytes: 1 };
        await new Promise<void>((resolve) => (release = resolve));
        yield { group: { kind: 'bucket', name: 'b' }, kind: 'object', name: 'late', bytes: 1 };
        yield { group: { kind: 'bucket', name: 'b' }, kind: 'object', name: 'never', bytes: 1 };
      } finally {
        closed = true;
      }
    }
    const controller = new AbortController();
    const page = pageOf(stuck(), request({ group: 'b' }), controller.signal);
    setImmediate(() => controller.abort(new Error('cancelled by the operator')));
    await expect(page).rejects.toThrow('cancelled by the operator');
    expect(closed).toBe(false);
    release();
    await vi.waitFor(() => expect(closed).toBe(true));
  });

  it('filters names by glob when the text holds a glob character, else by a part of the name in any case', () => {
    expect(filterMatcher('sess')('Session:1')).toBe(true);
    expect(filterMatcher('sess*')('Session:1')).toBe(false);
    expect(filterMatcher('*.pem')('keys/jwt.pem')).toBe(true);
    expect(filterMatcher('a.b')('axb')).toBe(false);
  });
});

describe("the object store's listing over a generated index of 1,000,000 objects", () => {
  /** The rustfs part of an archive whose index lists a million objects in two buckets, counting the records read. */
  function millionObjects(): { source: ComponentSource; read: () => number } {
    let read = 0;
    async function* files(): AsyncGenerator<IndexedFile> {
      for (let index = 0; index < MILLION; index += 1) {
        read += 1;
        const key = `avatars/${index}.png`;
        yield { path: `${index < MILLION / 2 ? 'uploads' : 'media'}/${key}`, size: 100, details: { key } };
      }
    }
    const source: ComponentSource = {
      archiveName: 'generated.tar.gz',
      fileCount: MILLION,
      files,
      details: { buckets: ['uploads', 'media'] },
      entries: () => {
        throw new Error('the listing reads no content');
      },
      readText: () => Promise.resolve(undefined),
    };
    return { source, read: () => read };
  }
  const rustfs = COMPONENTS.find((component) => component.name === 'rustfs')!;

  it('lists the buckets from the manifest without reading the index, and a page of objects reading 51 records', async () => {
    const { source, read } = millionObjects();
    const context = { source, setting: () => undefined };
    expect(await rustfs.groups!(context)).toEqual([
      { kind: 'bucket', name: 'uploads' },
      { kind: 'bucket', name: 'media' },
    ]);
    expect(read()).toBe(0);
    const started = performance.now();
    const page = await pageOf(
      rustfs.find!(context, () => true),
      request({ group: 'uploads', offset: 100 }),
      live(),
    );
    expect(page.items.map((item) => item.name)).toEqual(Array.from({ length: 50 }, (_, index) => `avatars/${100 + index}.png`));
    expect(page.more).toBe(true);
    expect(read()).toBe(151);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('browseArchive', () => {
  it('reads only the start of a big archive for the first page of a volume of 4,000 files', async () => {
    const entries: Uint8Array[] = [];
    for (let index = 0; index < 4_000; index += 1) {
      const content = randomBytes(1_024);
      const header = new Header({ path: `./files/${String(index).padStart(5, '0')}.bin`, type: 'File', size: content.length, mode: 0o644 });
      header.encode();
      entries.push(header.block!, content);
    }
    const tar = Buffer.concat([...entries, Buffer.alloc(1024)]);
    const files = [{ path: 'graph/content.tar', content: tar }];
    const details = { graph: { definition: { kind: 'volume', container: 'c', path: '/data' }, container: 'c', path: '/data' } };
    const { location, manifest, size, read } = await countedArchive('graph', files, { details: details.graph });
    const options = { components: COMPONENTS, fromArchive: archivedComponent, setting: () => undefined };

    const groups = await browseArchive(location, { component: 'graph', offset: 0, pageSize: 50 }, options, live());
    expect(groups).toEqual({ groups: [{ kind: 'volume', name: 'c:/data' }], items: [], more: false, read: 0 });
    expect(read()).toBeLessThan(size / 4); // the volume's folder is in the manifest: its content is not read
    const readBefore = read();
    const page = await browseArchive(location, { component: 'graph', group: 'c:/data', offset: 0, pageSize: 50 }, options, live());

    expect(page.items).toHaveLength(50);
    expect(page.items[0]).toMatchObject({ name: 'files/00000.bin', bytes: 1_024 });
    expect(page.more).toBe(true);
    expect(read() - readBefore).toBeLessThan(size / 4);
    expect(browsableComponents(manifest, options)).toEqual([
      expect.objectContaining({ name: 'graph', unpickable: undefined, beside: expect.objectContaining({ flag: 'into' }) }),
    ]);
  });
});

describe('picksAsSelectors', () => {
  const options = { components: COMPONENTS, fromArchive: archivedComponent, setting: () => undefined };
  const manifest = manifestFor([], {
    components: ['mongodb', 'redis', 'rustfs', 'secrets', 'uploads', 'spools'],
    details: {
      uploads: {
        definition: { kind: 'directory', path: 'data/uploads' },
        roots: [{ path: 'data/uploads', mode: 0o755, mtimeMs: 0, folders: [] }],
      },
      spools: {
        definition: { kind: 'directory', path: 'docker/spool-*' },
        roots: [
          { path: 'docker/spool-a', mode: 0o755, mtimeMs: 0, folders: [] },
          { path: 'docker/spool-b', mode: 0o755, mtimeMs: 0, folders: [] },
        ],
      },
    },
  });

  it('escapes every glob character of a picked name, per component', () => {
    expect(
      picksAsSelectors(
        manifest,
        {
          mongodb: [{ group: 'orkestra', item: 'audit_[2024]*' }],
          redis: [
            { group: '0', item: 'session:*:a?[b]\\' },
            { group: '0', item: 'plain' },
          ],
          rustfs: [{ group: 'uploads', item: 'avatars/*.png' }, { group: 'media' }],
          secrets: [{ group: 'docker', item: 'keys/{a,b}.pem' }],
        },
        options,
      ),
    ).toEqual({
      selectors: {
        ns: ['orkestra.audit_\\[2024\\]\\*'],
        db: ['0'],
        keys: ['session:\\*:a\\?\\[b\\]\\\\', 'plain'],
        objects: ['media', 'uploads/avatars/*.png'],
        files: ['keys/\\{a\\,b\\}.pem'],
      },
      notes: ['rustfs: --objects takes every object whose key starts with a picked key; the dry run counts them'],
    });
  });

  it('takes whole groups: a database, a Redis database, a folder', () => {
    const whole = (component: string, group: string) =>
      picksAsSelectors(manifest, { [component]: [{ group }, { group, item: 'x' }] }, options);
    expect(whole('mongodb', 'orkestra')).toMatchObject({ selectors: { ns: ['orkestra.**'] } });
    expect(whole('redis', '3')).toMatchObject({ selectors: { db: ['3'] } });
    expect(whole('secrets', 'docker')).toMatchObject({ selectors: { files: ['**'] } });
    expect(whole('uploads', 'data/uploads')).toMatchObject({ selectors: { files: ['**'] } });
  });

  it('leads a file of a directory component with several folders by its folder, as --files matches it', () => {
    expect(
      picksAsSelectors(manifest, { spools: [{ group: 'docker/spool-a', item: 'run (1).sh' }, { group: 'docker/spool-b' }] }, options),
    ).toMatchObject({ selectors: { files: ['docker/spool-a/run \\(1\\).sh', 'docker/spool-b'] } });
  });

  it("refuses collections of a database other than the backup's (the dump's admin)", () => {
    const withDatabase = manifestFor([], { components: ['mongodb'], details: { mongodb: { database: 'orkestra' } } });
    expect(picksAsSelectors(withDatabase, { mongodb: [{ group: 'admin', item: 'system.version' }] }, options)).toEqual({
      refused: "mongodb: only the backup's database orkestra is restored, not admin.",
    });
    expect(picksAsSelectors(withDatabase, { mongodb: [{ group: 'orkestra', item: 'users' }] }, options)).toMatchObject({
      selectors: { ns: ['orkestra.users'] },
    });
  });

  it('refuses Redis keys of two databases, and two components that both take --files', () => {
    const twoDatabases = picksAsSelectors(
      manifest,
      {
        redis: [
          { group: '0', item: 'a' },
          { group: '3', item: 'b' },
        ],
      },
      options,
    );
    expect(twoDatabases).toEqual({ refused: expect.stringMatching(/^redis: .*one database per restore.*databases 0, 3/) });
    const twoFileComponents = picksAsSelectors(
      manifest,
      { secrets: [{ group: 'docker', item: '.env' }], uploads: [{ group: 'data/uploads', item: 'a.png' }] },
      options,
    );
    expect(twoFileComponents).toEqual({ refused: expect.stringContaining('secrets and uploads both take --files') });
  });
});
