import { describe, expect, it } from 'vitest';
import { objectSelection, objectsRead } from '../../src/components/rustfs/selection.js';
import type { ArchivedObject } from '../../src/s3/rustfs/archivedObjects.js';

const ARCHIVED = ['avatars', 'docs'];
const select = (flags: Record<string, string[]>) => objectSelection({ flags, beside: 'to-bucket' in flags }, ARCHIVED);
const object = (bucket: string, key: string) => ({ bucket, key, path: key, size: 1, recorded: true }) as ArchivedObject;

describe('the object selection of --objects and --to-bucket', () => {
  it('takes the keys starting with a prefix, compares only the buckets named, and lists the outermost prefixes in key order', () => {
    const scope = select({ objects: ['avatars/users/1', 'avatars/users/10/', 'avatars/public/', 'avatars/users/1'] });
    expect(scope.buckets).toEqual(['avatars']);
    expect(scope.selects('avatars', 'users/10/c.png')).toBe(true);
    expect(scope.selects('avatars', 'users/2/b.png')).toBe(false);
    expect(scope.selects('docs', 'users/1/a.png')).toBe(false);
    expect(scope.livePrefixes('avatars')).toEqual(['public/', 'users/1']);
    expect(scope.targetBucket('avatars')).toBe('avatars');
    expect(scope.targetKey('avatars', 'users/1/a.png')).toBe('users/1/a.png');
  });

  it('counts per --objects, and refuses one that matched nothing, naming it', () => {
    const scope = select({ objects: ['avatars/users/', 'docs/none/'] });
    scope.counted(object('avatars', 'users/1/a.png'), 'overwrite');
    scope.counted(object('avatars', 'users/2/b.png'), 'add');
    expect(scope.lines()[0]).toBe('--objects avatars/users/: 2 objects in the archive: 1 to add, 1 to overwrite (different), 0 identical');
    expect(() => scope.refuseUnmatched('a.tar.gz')).toThrow('--objects docs/none/ matches no object of rustfs in a.tar.gz.');
  });

  it('--to-bucket writes under PREFIX/<bucket>/, every bucket without --objects, and says where', () => {
    const scope = select({ 'to-bucket': ['compare/old'] });
    expect(scope.buckets).toEqual(ARCHIVED);
    expect(scope.targetBucket('docs')).toBe('compare');
    expect(scope.targetKey('docs', 'readme.txt')).toBe('old/docs/readme.txt');
    expect(scope.livePrefixes('docs')).toEqual(['old/docs/']);
    expect(scope.impact().beside).toBe('bucket compare/old/');
  });

  it('refuses a --to-bucket overlapping the live selection, a malformed bucket name, and allows keys apart from it (avatars/avatars/…, avatars/restored/…)', () => {
    expect(() => select({ objects: ['avatars/users/'], 'to-bucket': ['avatars/users/old'] })).toThrow(/overlaps avatars\/users\//);
    expect(() => select({ 'to-bucket': ['docs/restored'] })).toThrow(/--to-bucket docs\/restored overlaps docs\//);
    expect(() => select({ objects: ['Bad_Name'] })).toThrow('"Bad_Name" is not a valid bucket name');
    expect(select({ objects: ['avatars/users/'], 'to-bucket': ['avatars'] }).targetKey('avatars', 'users/1/a.png')).toBe(
      'avatars/users/1/a.png',
    );
    expect(select({ objects: ['avatars/users/'], 'to-bucket': ['avatars/restored'] }).targetKey('avatars', 'users/1/a.png')).toBe(
      'restored/avatars/users/1/a.png',
    );
  });

  it('says which archive files a selection reads: the picked objects by their recorded key, every object without --objects, any file whose key is not recorded', () => {
    const file = (path: string, key?: string) => ({
      path,
      size: 1,
      sha256: 'a'.repeat(64),
      details: key === undefined ? undefined : { key },
    });
    const reads = objectsRead({ flags: { objects: ['avatars/users/1/', 'docs'] }, beside: false });
    expect(reads(file('avatars/users/1/a.png', 'users/1/a.png'))).toBe(true);
    expect(reads(file('avatars/users/10/c.png', 'users/10/c.png'))).toBe(false);
    expect(reads(file('avatars/public/x.png', 'public/x.png'))).toBe(false);
    expect(reads(file('docs/readme.txt', 'readme.txt'))).toBe(true);
    expect(reads(file('other/users/1/a.png', 'users/1/a.png'))).toBe(false);
    expect(reads(file('avatars/encoded-name'))).toBe(true);
    expect(objectsRead({ flags: { 'to-bucket': ['compare'] }, beside: true })(file('avatars/public/x.png', 'public/x.png'))).toBe(true);
  });
});
