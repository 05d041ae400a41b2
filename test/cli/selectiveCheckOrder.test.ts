import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTarBytes, writeTarBytes } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

/** The tar's entries as byte runs (a pax header kept with the entry it describes), the end blocks apart. */
function tarRuns(tar: Buffer): { path: string; bytes: Buffer }[] {
  const runs: { path: string; bytes: Buffer }[] = [];
  let start = 0;
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
    const size = parseInt(
      tar
        .subarray(at + 124, at + 136)
        .toString('latin1')
        .replace(/\0.*$/s, '')
        .trim() || '0',
      8,
    );
    const type = String.fromCharCode(tar[at + 156]);
    const path = tar
      .subarray(at, at + 100)
      .toString('utf8')
      .replace(/\0.*$/s, '');
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x' || type === 'g') continue;
    runs.push({ path, bytes: tar.subarray(start, at) });
    start = at;
  }
  return runs;
}

describe('what a selective restore checks of the archive order', () => {
  it("a selected component's files interleaved with another's are refused (exit 2) before anything is touched, not restored as nothing with exit 0", async () => {
    const project = await makeProject();
    const components = { alpha: { kind: 'directory', path: 'data-alpha' }, beta: { kind: 'directory', path: 'data-beta' } };
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components }));
    for (const name of ['alpha', 'beta']) {
      await mkdir(join(project, `data-${name}`));
      await writeFile(join(project, `data-${name}/one.txt`), `${name} one\n`);
      await writeFile(join(project, `data-${name}/two.txt`), `${name} two\n`);
    }
    const backup = await runCli(['backup', '-c', 'alpha,beta', '-y'], { cwd: project });
    expect(backup.code).toBe(0);
    for (const name of ['alpha', 'beta']) await writeFile(join(project, `data-${name}/one.txt`), `${name} edited since\n`);

    // alpha's first file, then beta's files, then alpha's second: every file intact, only out of place.
    const tar = await readTarBytes(backup.stdout.trim());
    const runs = tarRuns(tar);
    const alpha = runs.filter((run) => run.path.startsWith('alpha/'));
    const others = runs.filter((run) => !run.path.startsWith('alpha/') && !run.path.startsWith('beta/'));
    const beta = runs.filter((run) => run.path.startsWith('beta/'));
    const alphaFiles = alpha.filter((run) => !run.path.endsWith('/'));
    expect(alphaFiles.length).toBe(2);
    const reordered = [...others, ...alpha.filter((run) => run !== alphaFiles[1]), ...beta, alphaFiles[1]];
    const damaged = join(project, 'backups', 'interleaved.tar.gz');
    await writeTarBytes(damaged, Buffer.concat([...reordered.map((run) => run.bytes), Buffer.alloc(1024)]));

    const whole = await runCli(['restore', damaged, '-c', 'alpha', '--dry-run'], { cwd: project });
    expect(whole.code).toBe(2);
    expect(whole.stderr).toContain('is out of place');

    const before = await snapshotTree(join(project, 'data-alpha'));
    const result = await runCli(['restore', damaged, '-c', 'alpha', '--files', 'two.txt', '-y'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is out of place: the files of alpha are not together');
    expect(result.stderr).toContain('Nothing was touched');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await snapshotTree(join(project, 'data-alpha'))).toEqual(before);
  });
});
