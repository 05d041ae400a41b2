import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/archive/manifest.js';
import { COMPONENTS } from '../../src/components/index.js';
import { browsableComponents, filterMatcher, pageOf } from '../../src/core/browse.js';
import type { FoundItem } from '../../src/core/component.js';
import { FakeBackend } from './fakeBackend.js';
import { DOWN, ENTER, ESC, mountApp } from './mountApp.js';

const ARCHIVE = {
  file: '/b/new.tar.gz',
  name: 'new.tar.gz',
  bytes: 3_000,
  modifiedMs: 2,
  environment: 'prod',
  createdAt: '2026-11-20T03:00:00Z',
  components: ['redis', 'secrets'],
};

/** 120 keys in database 0 and one in database 3, read through the real paging; database 3 can be made to hang. */
function pickerBackend(options: { hangOn?: string } = {}): FakeBackend {
  const backend = new FakeBackend();
  backend.archives = [ARCHIVE];
  const manifest = { components: ['redis', 'secrets'], details: {} } as unknown as Manifest;
  backend.browsableImpl = async () => browsableComponents(manifest, { components: COMPONENTS, setting: () => undefined });
  backend.browseImpl = async (request, signal) => {
    if (options.hangOn !== undefined && request.group === options.hangOn) {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    }
    // As a component's find does, given the filter of an item listing.
    const matches = request.group !== undefined && request.filter ? filterMatcher(request.filter) : () => true;
    async function* keys(): AsyncGenerator<FoundItem> {
      for (let index = 0; index < 120; index += 1)
        if (matches(`session:${index}`)) yield { group: { kind: 'database', name: '0' }, kind: 'key', name: `session:${index}`, bytes: 5 };
      yield { group: { kind: 'database', name: '3' }, kind: 'key', name: 'queue:[1]', bytes: 7, detail: 'list' };
      yield { group: { kind: 'database', name: '3' }, kind: 'key', name: 'evil\u001b[2J\nforged row', bytes: 9 };
    }
    return pageOf(keys(), request, signal);
  };
  return backend;
}

/** From the archive list into the picker, onto redis, and into its databases. */
async function openRedis({ press, shows }: Pick<ReturnType<typeof mountApp>, 'press' | 'shows'>): Promise<void> {
  await shows('new.tar.gz');
  await press(ENTER, DOWN, ENTER);
  await shows(/› redis/);
  await press('l');
}

describe('TUI: Pick what to restore', () => {
  it('shows a key name with control characters and a newline escaped on its one row: a crafted key cannot clear the screen or forge a row', async () => {
    const { press, shows, frame } = mountApp(pickerBackend(), 'restore');
    await openRedis({ press, shows });
    await shows('[ ] 3');
    await press(DOWN, 'l');
    await shows('[ ] evil\\u001b[2J\\nforged row');
    expect(frame()).not.toContain('\u001b[2J');
    expect(frame()).not.toMatch(/^\s*forged row/m);
  });

  it('picks one Redis key through a filter, restores it beside: the dry run gets --db, --keys and --to-db', async () => {
    const backend = pickerBackend();
    backend.previewImpl = async () => {
      throw new Error('stop here');
    };
    const { press, shows, frame } = mountApp(backend, 'restore');
    await shows('new.tar.gz');
    await press(ENTER);
    await shows('Pick what to restore');
    await press(DOWN, ENTER);
    await shows(/› redis\s+Redis/);
    await shows("Picks become the restore's selectors (--keys, --db, --files)");
    await press('l');
    await shows('[ ] 3');
    expect(frame()).toContain('[ ] 0');
    await press('l');
    await shows('session:25');
    await shows(/↓ \d+ more below/);
    expect(frame()).not.toContain('session:49');
    await shows('Picks of redis become --keys: only the Redis keys matching GLOB');
    await press('/', ...'session:7', ENTER);
    await shows('filter: session:7');
    await shows('session:79');
    expect(backend.calls.at(-1)).toEqual({
      method: 'browse',
      args: ['/b/new.tar.gz', { component: 'redis', group: '0', filter: 'session:7', offset: 0, pageSize: 50 }],
    });
    await press(' ');
    await shows('[x] session:7');
    await shows('Picked: redis 1');
    await press(ENTER);
    await shows('Restore the picks of redis');
    await shows('Selectors: --db 0 --keys session:7');
    await press(DOWN, ENTER);
    await shows('--to-db N for redis:');
    await press('5', ENTER);
    await shows('Components: redis (only the picks)');
    await shows('Selectors: --db 0 --keys session:7 --to-db 5');
    await press(ENTER);
    await shows('stop here');
    expect(backend.calls.find((call) => call.method === 'previewRestore')).toEqual({
      method: 'previewRestore',
      args: ['/b/new.tar.gz', ['redis'], { db: ['0'], keys: ['session:7'], 'to-db': ['5'] }],
    });
  });

  it('pages: "more…" reads the next 50 from offset 50; keys of two databases are refused with the reason', async () => {
    const backend = pickerBackend();
    const { press, shows, frame } = mountApp(backend, 'restore');
    await openRedis({ press, shows });
    await shows('[ ] 3');
    await press(DOWN, 'l');
    await shows('queue:[1]');
    await press(' ');
    await shows('[x] queue:[1]');
    await press(ESC);
    await shows('[~] 3');
    await press('l'); // database 0, under the cursor
    await shows('session:0');
    await press(' ', ...Array<string>(50).fill(DOWN));
    await shows('› more… (the next page)');
    await press('l');
    await shows('session:50');
    expect(frame()).not.toContain('session:49 ');
    expect(frame()).toContain('‹ previous page');
    expect(backend.calls.at(-1)?.args[1]).toMatchObject({ group: '0', offset: 50 });
    await press(ENTER);
    await shows(/redis: Redis keys are restored from one database per restore \(--db\),\s+and these come from databases\s+3, 0/);
    expect(backend.methods()).not.toContain('previewRestore');
  });

  it('esc cancels a read that has not answered: its signal aborts, the picker stays', async () => {
    const backend = pickerBackend({ hangOn: '3' });
    const { press, shows, exits } = mountApp(backend, 'restore');
    await openRedis({ press, shows });
    await shows('[ ] 3');
    await press(DOWN, 'l');
    await shows('reading… (esc cancels)');
    await press(ESC);
    await shows('Reading cancelled');
    expect(backend.lastSignal?.aborted).toBe(true);
    expect(exits).toEqual([]);
    await press(ESC);
    await shows('[ ] 3');
  });

  it("shows the counts the manifest's shape gives beside each group", async () => {
    const backend = pickerBackend();
    const listed = backend.browseImpl;
    backend.browseImpl = async (request, signal) =>
      request.group === undefined
        ? {
            groups: [
              { kind: 'database', name: '0', detail: '12,345 keys' },
              { kind: 'database', name: '3', detail: '1 key' },
            ],
            items: [],
            more: false,
            read: 0,
          }
        : listed(request, signal);
    const { press, shows, frame } = mountApp(backend, 'restore');
    await openRedis({ press, shows });
    await shows(/\[ \] 0\s+12,345 keys/);
    expect(frame()).toMatch(/\[ \] 3\s+1 key/);
  });
});
