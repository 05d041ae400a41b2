import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/tui/backend.js';
import { makeProject } from '../helpers/project.js';

const quiet = () => undefined;

describe("the interface's backend: the picker's reads of a real archive", () => {
  it('lists the groups and a page of items of a directory component, turns a pick with glob characters into an exact --files, and restores only that file', async () => {
    const project = await makeProject();
    await writeFile(
      join(project, 'orkestra-backup.json'),
      JSON.stringify({ components: { spool: { kind: 'directory', path: 'spool-*' } } }),
    );
    await mkdir(join(project, 'spool-a'));
    await mkdir(join(project, 'spool-b'));
    // Unescaped, the glob a[1]*.txt would also take a1-other.txt.
    await writeFile(join(project, 'spool-a/a[1]*.txt'), 'picked\n');
    await writeFile(join(project, 'spool-a/a1-other.txt'), 'other\n');
    await writeFile(join(project, 'spool-b/three.json'), '{}\n');
    const backend = await createBackend({ projectDir: project, containers: {}, settings: {} });
    const signal = new AbortController().signal;
    const { archivePath } = await backend.backup(['spool'], quiet, signal);
    await writeFile(join(project, 'spool-a/a[1]*.txt'), 'edited\n');
    await writeFile(join(project, 'spool-a/a1-other.txt'), 'edited other\n');

    expect(await backend.browsable(archivePath)).toEqual([
      expect.objectContaining({ name: 'spool', unpickable: undefined, beside: expect.objectContaining({ flag: 'into' }) }),
    ]);
    const groups = await backend.browse(archivePath, { component: 'spool', offset: 0, pageSize: 50 }, signal);
    expect(groups.groups.map((group) => group.name)).toEqual(['spool-a', 'spool-b']);
    const firstOfA = await backend.browse(archivePath, { component: 'spool', group: 'spool-a', offset: 0, pageSize: 1 }, signal);
    expect(firstOfA.items).toHaveLength(1);
    expect(firstOfA.more).toBe(true);
    const page = (filter: string) =>
      backend.browse(archivePath, { component: 'spool', group: 'spool-a', filter, offset: 0, pageSize: 50 }, signal);
    expect((await page('A1')).items.map((item) => item.name)).toEqual(['a1-other.txt']); // a part of the name, any case
    expect((await page('a?1*')).items.map((item) => item.name)).toEqual(['a[1]*.txt']); // a glob
    const answer = await backend.picksAsSelectors(archivePath, { spool: [{ group: 'spool-a', item: 'a[1]*.txt' }] });
    expect(answer).toEqual({ selectors: { files: ['spool-a/a\\[1\\]\\*.txt'] }, notes: [] });
    if (!('selectors' in answer)) throw new Error('refused');

    const preview = await backend.previewRestore(archivePath, ['spool'], quiet, signal, answer.selectors);
    expect(preview.plans[0].plan?.selection?.totals).toMatch(/^1 file in the archive/);
    const outcome = await backend.restore(preview, { mode: 'move-aside' }, quiet, signal);
    expect(outcome.failed).toBeUndefined();
    expect(await readFile(join(project, 'spool-a/a[1]*.txt'), 'utf8')).toBe('picked\n');
    expect(await readFile(join(project, 'spool-a/a1-other.txt'), 'utf8')).toBe('edited other\n');
  });

  it('a read whose signal is aborted is refused with the reason', async () => {
    const project = await makeProject();
    const backend = await createBackend({ projectDir: project, containers: {}, settings: {} });
    const { archivePath } = await backend.backup(['secrets'], quiet, new AbortController().signal);
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the operator'));
    await expect(
      backend.browse(archivePath, { component: 'secrets', group: 'docker', offset: 0, pageSize: 50 }, controller.signal),
    ).rejects.toThrow('cancelled by the operator');
  });
});
