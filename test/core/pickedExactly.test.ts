import { describe, expect, it } from 'vitest';
import { picksAsSelectors } from '../../src/core/browse.js';
import type { PickedItem } from '../../src/core/component.js';
import { archivedComponent, COMPONENTS } from '../../src/components/index.js';
import { FileTally } from '../../src/components/fileSelection.js';
import { DirectoryPaths } from '../../src/components/directory/selection.js';
import type { DirectoryDetails } from '../../src/components/directory/content.js';
import type { RootTarget } from '../../src/components/directory/targets.js';
import { chooseCollections } from '../../src/components/mongodb/selection.js';
import { keySelectionOf } from '../../src/components/redis/keySelectors.js';
import { objectSelection } from '../../src/components/rustfs/selection.js';
import { targetOf } from '../../src/redis/keySelection.js';
import type { NamespaceSummary } from '../../src/mongo/archive.js';
import { manifestFor } from '../helpers/archives.js';

/**
 * A TUI pick becomes selector flags that the restore matches with its own matcher: these run each
 * component's picks through that very matcher, among look-alikes of the picked name, and prove it
 * takes the picked item and nothing else (a pick that takes more overwrites live data).
 */

/** Names with each character a glob reads as more than itself, quotes, backslashes, dots, unicode. */
const BASE = [
  'a',
  'b',
  'ab',
  'a.b',
  'a b',
  'é',
  '💥',
  ...[...'*?[]{}()!+@|,^$"\'\\#~%&=-.:;<>`'].flatMap((special) => [
    special,
    `a${special}`,
    `${special}a`,
    `a${special}b`,
    `${special}${special}`,
  ]),
  '{a,b}',
  '!(a)',
  '@(a)',
  '+(a)',
  '*(a)',
  '?(a)',
  '[a]',
  '[!a]',
  '[^a]',
  '"a"',
  '"a',
  'a\\\\b',
  'a\\\\\\b',
  '\\\\',
  '**',
];

/** Names with a slash: keys, objects and collections, never beside a file of the same name as their first part. */
const WITH_SLASH = ['a/b', 'a/**', 'a/[b]', 'a/\\[b\\]'];

/** Each name's backslash-escaped spelling, as a name of its own: what a file called `a\*` looks like to a glob. */
const LOOK_ALIKES = BASE.map((name) => name.replace(/[\\*?[\]{}()!+@|,^$"]/g, '\\$&'));

const NAMES = [...new Set([...BASE, ...LOOK_ALIKES])];

/** The names `matches` takes, where exactly `picked` was picked. */
function taken(names: readonly string[], matches: (name: string) => boolean): string[] {
  return names.filter((name) => matches(name));
}

const options = { components: COMPONENTS, fromArchive: archivedComponent, setting: () => undefined };

function selectorsOf(component: string, details: Record<string, unknown>, picks: readonly PickedItem[]) {
  const manifest = manifestFor([], { components: [component], details });
  const answer = picksAsSelectors(manifest, { [component]: picks }, options);
  if ('refused' in answer) throw new Error(answer.refused);
  return answer.selectors;
}

describe('a picked item becomes selectors that take it and nothing else', () => {
  it('a picked secret file (--files) takes that file alone among names with glob characters, quotes, backslashes and their escaped spellings', () => {
    const files = [...NAMES, ...NAMES.map((name) => `keys/${name}`)];
    for (const picked of files) {
      const { files: patterns } = selectorsOf('secrets', {}, [{ group: 'docker', item: picked }]);
      const tally = new FileTally(patterns, 'secrets');
      expect({ picked, patterns, taken: taken(files, (path) => tally.selects(path)) }).toEqual({ picked, patterns, taken: [picked] });
    }
  });

  it('a picked file of a volume component (--files) takes that file alone', () => {
    const details = { definition: { kind: 'volume', container: 'graph', path: '/var/lib/graph' } };
    for (const picked of NAMES) {
      const { files: patterns } = selectorsOf('graph', { graph: details }, [{ group: 'graph:/var/lib/graph', item: picked }]);
      const tally = new FileTally(patterns, 'graph');
      expect({ picked, taken: taken(NAMES, (path) => tally.selects(path)) }).toEqual({ picked, taken: [picked] });
    }
  });

  it('a picked file or folder of a directory component with several folders takes that file or that folder alone, as its restore matches paths', () => {
    const roots = ['docker/spool[1]', 'docker/spool1', 'docker/spool\\[1\\]', 'docker/spool[1]-old'];
    const details: DirectoryDetails = {
      definition: { kind: 'directory', path: 'docker/spool*' },
      roots: roots.map((path) => ({ path, mode: 0o755, mtimeMs: 0, folders: [] })),
    } as unknown as DirectoryDetails;
    const targets = roots.map((_, index) => ({ index }) as RootTarget);
    const paths = new DirectoryPaths(details, targets, undefined);
    const archived = roots.flatMap((_, index) => NAMES.map((name) => `${index}/${name}`));
    const selected = (patterns: readonly string[]) => {
      const tally = new FileTally(patterns, 'spools');
      return taken(archived, (path) => tally.selects(paths.selectionPath(path)!));
    };
    for (const [index, root] of roots.entries()) {
      for (const picked of NAMES) {
        const { files } = selectorsOf('spools', { spools: details }, [{ group: root, item: picked }]);
        expect({ root, picked, taken: selected(files) }).toEqual({ root, picked, taken: [`${index}/${picked}`] });
      }
      const { files } = selectorsOf('spools', { spools: details }, [{ group: root }]);
      expect(selected(files)).toEqual(NAMES.map((name) => `${index}/${name}`));
    }
  });

  it('a picked collection (--ns) takes that collection alone among names with glob characters, dots, quotes, backslashes and a leading ./', () => {
    const collections = [...NAMES, ...WITH_SLASH, './a', '.\\/a', 'audit.2024', 'audit', 'audit_2024'];
    const dump: NamespaceSummary[] = collections.map((collection) => ({ db: 'orkestra', collection, documents: 1, bytes: 0, ended: true }));
    for (const picked of collections) {
      const { ns } = selectorsOf('mongodb', { mongodb: { database: 'orkestra' } }, [{ group: 'orkestra', item: picked }]);
      const chosen = chooseCollections(dump, { patterns: ns }, 'orkestra', 'a.tar.gz');
      expect({ picked, ns, taken: chosen.owners }).toEqual({ picked, ns, taken: [picked] });
    }
  });

  it('a picked Redis key (--db --keys) takes that key alone, in its database only', () => {
    const keys = [...NAMES, ...WITH_SLASH, 'session:1', 'session:10', 'session:\\1'];
    for (const picked of keys) {
      const { db, keys: globs } = selectorsOf('redis', {}, [{ group: '3', item: picked }]);
      const selection = keySelectionOf({ flags: { db, keys: globs }, beside: false });
      const inDatabase = (database: number) => taken(keys, (key) => targetOf(selection, database, Buffer.from(key)) !== undefined);
      expect({ picked, taken: inDatabase(3) }).toEqual({ picked, taken: [picked] });
      expect(inDatabase(0)).toEqual([]);
    }
  });

  it('a picked Redis key that is not UTF-8 text is refused: the name it is listed by would take another key', () => {
    const unreadable = Buffer.from([0x73, 0xff]);
    const spelled = Buffer.from('s\uFFFD');
    const listed = unreadable.toString('utf8');
    expect(listed).toBe(spelled.toString('utf8'));
    const manifest = manifestFor([], { components: ['redis'] });
    expect(picksAsSelectors(manifest, { redis: [{ group: '0', item: listed }] }, options)).toEqual({
      refused: expect.stringMatching(/^redis: the key .* is not UTF-8 text.*--keys on the command line/),
    });
  });

  it('a picked object (--objects) takes that object and, as its note says, the keys it starts; no other object', () => {
    const keys = [...NAMES, ...WITH_SLASH, 'avatars/a.png', 'avatars/a.png.bak'];
    for (const picked of keys) {
      const manifest = manifestFor([], { components: ['rustfs'] });
      const answer = picksAsSelectors(manifest, { rustfs: [{ group: 'uploads', item: picked }] }, options);
      if ('refused' in answer) throw new Error(answer.refused);
      expect(answer.notes).toEqual([expect.stringContaining('starts with a picked key')]);
      const selection = objectSelection({ flags: answer.selectors, beside: false }, ['uploads', 'uploads2']);
      const selected = taken(keys, (key) => selection.selects('uploads', key));
      expect({ picked, selected }).toEqual({ picked, selected: keys.filter((key) => key.startsWith(picked)) });
      expect(taken(keys, (key) => selection.selects('uploads2', key))).toEqual([]);
    }
  });
});
