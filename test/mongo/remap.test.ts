import { describe, expect, it } from 'vitest';
import { exactNamespace, namespaceTarget, remapArguments, targetNamespace } from '../../src/mongo/remap.js';

describe('mongorestore scope and remapping', () => {
  it('always scopes the restore to the archive database, also when the names are equal', () => {
    expect(remapArguments('orkestra', 'orkestra')).toEqual(['--nsInclude=orkestra.*']);
    expect(remapArguments('test', 'orkestra')).toEqual(['--nsInclude=test.*', '--nsFrom=test.*', '--nsTo=orkestra.*']);
  });

  it('reads where each namespace lands from the exact arguments', () => {
    const args = ['--drop', '--archive', '--gzip', ...remapArguments('test', 'orkestra')];
    expect(namespaceTarget(args, 'test.bar')).toBe('orkestra.bar');
    expect(namespaceTarget(args, 'test.system.buckets.ts')).toBe('orkestra.system.buckets.ts');
    expect(namespaceTarget(args, 'admin.system.version')).toBeUndefined();
    expect(namespaceTarget(args, 'testing.bar')).toBeUndefined();
    expect(namespaceTarget(['--drop'], 'admin.system.version')).toBe('admin.system.version');
  });

  it('targetNamespace follows the same arguments', () => {
    expect(targetNamespace('test', 'bar', 'test', 'test')).toBe('test.bar');
    expect(targetNamespace('admin', 'system.version', 'test', 'test')).toBeUndefined();
  });

  it('an exact namespace matches itself alone, even when its name holds a * or a backslash', () => {
    const args = [`--nsInclude=${exactNamespace('test.odd*name')}`, `--nsInclude=${exactNamespace('test.back\\slash')}`];
    expect(args).toEqual(['--nsInclude=test.odd\\*name', '--nsInclude=test.back\\\\slash']);
    expect(namespaceTarget(args, 'test.odd*name')).toBe('test.odd*name');
    expect(namespaceTarget(args, 'test.oddXname')).toBeUndefined();
    expect(namespaceTarget(args, 'test.back\\slash')).toBe('test.back\\slash');
    expect(namespaceTarget([...args, '--nsFrom=test.*', '--nsTo=copy.*'], 'test.odd*name')).toBe('copy.odd*name');
  });
});
