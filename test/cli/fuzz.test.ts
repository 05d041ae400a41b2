import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { runCli, type RunResult } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Damaged archives of every kind — a flipped byte anywhere, a cut anywhere, manifests with
 * fields of the wrong type — must end in exit 1 or 2 with one line and no stack trace, and never
 * change a target. A flip that lands where gzip does not look (its header's time stamp) may
 * leave a sound archive: such a case may exit 0, and must still change nothing.
 */
const FIXTURE = fileURLToPath(new URL('../fixtures/mongodump/test.bar.archive', import.meta.url));
const CONCURRENCY = 4;
let project: string;
let archive: Buffer;
const tally = { cases: 0, exit0: 0, exit1: 0, exit2: 0 };

beforeAll(async () => {
  project = await makeProject();
  const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
  expect(backup.code).toBe(0);
  archive = await readFile(backup.stdout.trim());
});

/** Deterministic offsets: evenly spread plus a seeded scatter, so a failure can be replayed. */
function offsets(length: number, count: number, seed: number): number[] {
  const result = new Set<number>();
  for (let index = 0; index < count / 2; index += 1) result.add(Math.floor((index * length) / (count / 2)));
  let state = seed;
  while (result.size < count) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    result.add(state % length);
  }
  return [...result].sort((a, b) => a - b);
}

async function runCase(name: string, bytes: Buffer, command: 'restore' | 'verify'): Promise<void> {
  // A project of its own (same .env and keys as the backed-up one): cases run side by side, and
  // one case's restore lock must not show up as a change in another's snapshot.
  const target = await makeProject();
  const file = join(target, `fuzz-${name}.tar.gz`);
  await writeFile(file, bytes);
  const before = await snapshotTree(join(target, 'docker'));
  const args = command === 'restore' ? ['restore', file, '-y'] : ['verify', file];
  const result: RunResult = await runCli(args, { cwd: target, env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
  const context = `${name} (${command}): exit ${result.code}\n${result.stderr}`;
  expect([0, 1, 2], context).toContain(result.code);
  expect(result.stderr, context).not.toMatch(/\n\s+at .*:\d+:\d+/);
  if (result.code !== 0 && command === 'restore') {
    expect(
      result.stderr.split('\n').filter((line) => line.startsWith('orkestra-backup:')),
      context,
    ).toHaveLength(1);
  }
  expect(await snapshotTree(join(target, 'docker')), context).toEqual(before);
  tally.cases += 1;
  tally[`exit${result.code}` as 'exit0' | 'exit1' | 'exit2'] += 1;
}

async function runAll(cases: { name: string; bytes: Buffer; command: 'restore' | 'verify' }[]): Promise<void> {
  const queue = [...cases];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await runCase(next.name, next.bytes, next.command);
    }),
  );
}

describe('fuzzing damaged archives', () => {
  it('byte flips at many offsets', async () => {
    await runAll(
      offsets(archive.length, 90, 7).map((offset) => {
        const bytes = Buffer.from(archive);
        bytes[offset] ^= 0x5a;
        return { name: `flip-${offset}`, bytes, command: offset % 3 === 0 ? 'verify' : 'restore' };
      }),
    );
  }, 300_000);

  it('truncations at many offsets', async () => {
    await runAll(
      offsets(archive.length, 60, 11).map((offset) => ({
        name: `cut-${offset}`,
        bytes: archive.subarray(0, offset),
        command: offset % 2 === 0 ? 'verify' : 'restore',
      })),
    );
    for (const result of [tally]) expect(result.cases).toBeGreaterThan(0);
  }, 300_000);

  it('manifests with fields of the wrong type', async () => {
    // The project's own .env: a variant that is (wrongly) accepted would then still change nothing.
    const env = await readFile(join(project, 'docker/.env'), 'utf8');
    const good = manifestFor([{ path: 'secrets/.env', content: env }]);
    const variants: Record<string, unknown> = {
      'schema-number': { ...good, schema: 1 },
      'schema-missing': { ...good, schema: undefined },
      'components-string': { ...good, components: 'secrets' },
      'components-numbers': { ...good, components: [1, 2] },
      'components-null': { ...good, components: null },
      'files-object': { ...good, files: { 'secrets/.env': 1 } },
      'files-strings': { ...good, files: ['secrets/.env'] },
      'size-string': { ...good, files: [{ ...good.files[0], size: '4' }] },
      'size-float': { ...good, files: [{ ...good.files[0], size: 4.5 }] },
      'size-huge': { ...good, files: [{ ...good.files[0], size: 1e300 }] },
      'sha-number': { ...good, files: [{ ...good.files[0], sha256: 12 }] },
      'path-empty': { ...good, files: [{ ...good.files[0], path: '' }] },
      'created-null': { ...good, createdAt: null },
      'environment-object': { ...good, environment: { name: 'x' } },
      'host-array': { ...good, host: ['a'] },
      'details-array': { ...good, details: [1, 2] },
      'details-secrets-wrong': { ...good, details: { secrets: { files: 'all' } } },
      'tool-string': { ...good, tool: 'orkestra-backup 9' },
      'array-manifest': [good],
      'null-manifest': null,
      'string-manifest': 'orkestra-backup/v1',
      'deep-nesting': { ...good, details: JSON.parse(`${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`) },
    };
    const cases = [];
    for (const [name, manifest] of Object.entries(variants)) {
      const file = join(project, 'backups', `manifest-${name}.tar.gz`);
      const text = JSON.stringify(manifest) ?? 'undefined';
      await writeRawArchive(file, [
        { path: 'manifest.json', content: text },
        { path: 'secrets/.env', content: env },
      ]);
      const bytes = await readFile(file);
      cases.push(
        { name: `manifest-${name}`, bytes, command: 'restore' as const },
        { name: `manifest-${name}-v`, bytes, command: 'verify' as const },
      );
    }
    // A manifest that is not JSON at all, and an archive whose first entry is a huge non-manifest.
    await writeRawArchive(join(project, 'backups', 'x.tar.gz'), [{ path: 'manifest.json', content: '{"schema": "orkestra-backup/v1", ' }]);
    cases.push({
      name: 'manifest-truncated-json',
      bytes: await readFile(join(project, 'backups', 'x.tar.gz')),
      command: 'restore' as const,
    });
    cases.push({ name: 'gzip-of-bson', bytes: gzipSync(readFileSync(FIXTURE)), command: 'restore' as const });
    await runAll(cases);
    console.log(
      `fuzz: ${tally.cases} cases ran — ${tally.exit2} refused as bad input (exit 2), ${tally.exit1} failed (exit 1), ` +
        `${tally.exit0} harmless mutations (exit 0, nothing changed)`,
    );
    expect(tally.cases).toBeGreaterThanOrEqual(190);
  }, 300_000);
});
