import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.js';
import { createBackend } from '../../src/tui/backend.js';
import { makeProject } from '../helpers/project.js';

const HISTORY = 'backups/.orkestra-backup-history.jsonl';

describe("the interactive interface's backend records its runs in the history, as the command line does", () => {
  it('a backup and a restore from the interface append their records; an unwritable history is a warning step, not a failed backup', async () => {
    const project = await makeProject();
    const backend = await createBackend({ projectDir: project, containers: {}, settings: {} });
    const signal = new AbortController().signal;
    const backup = await backend.backup(['secrets'], () => undefined, signal);
    const preview = await backend.previewRestore(backup.archivePath, ['secrets'], () => undefined, signal);
    const restored = await backend.restore(preview, { mode: 'move-aside' }, () => undefined, signal);
    expect(restored.failed).toBeUndefined();
    const records = (await readFile(join(project, HISTORY), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toMatchObject([
      {
        command: 'backup',
        result: 'success',
        archives: [{ location: backup.archivePath, bytes: backup.archiveBytes }],
        components: { secrets: { bytes: expect.any(Number), seconds: expect.any(Number), ok: true } },
      },
      { command: 'restore', result: 'success', archives: [{ location: backup.archivePath }], components: { secrets: { ok: true } } },
    ]);

    // The history is now a folder: it cannot be appended to.
    await rm(join(project, HISTORY));
    await mkdir(join(project, HISTORY));
    const events: RunEvent[] = [];
    const again = await backend.backup(['secrets'], (event) => events.push(event), signal);
    expect(again.archivePath).not.toBe(backup.archivePath);
    const warnings = events.filter((event) => event.type === 'step' && event.message.startsWith('warning: the history of this run'));
    expect(warnings).toHaveLength(1);
  });
});
