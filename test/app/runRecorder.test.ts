import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/app/runRecorder.js';
import { AbortedError, RuntimeError, UsageError } from '../../src/base/errors.js';
import { historyPath, readHistory } from '../../src/core/history/historyFile.js';
import { openProject } from '../../src/model/project.js';
import { makeProject } from '../helpers/project.js';

const PASSWORD = 'Tr0ub4dor-and-3-history';

async function recorderIn(projectDir: string, warnings: string[] = [], signal = new AbortController().signal) {
  return new RunRecorder('restore', {
    project: () => openProject({ projectDir, processEnv: {} }),
    signal,
    warn: (line) => warnings.push(line),
  });
}

describe('the run recorder', () => {
  it("a failure's error is one line with no secret value of docker/.env and no password of a URL in it", async () => {
    const project = await makeProject({ env: `MONGO_ROOT_PASSWORD=${PASSWORD}\nORKESTRA_ENV=staging\n` });
    const recorder = await recorderIn(project);
    const failure = new RuntimeError(`login refused for root with ${PASSWORD} at mongodb://root:${PASSWORD}x@db:27017\nsecond line`);
    await expect(
      recorder.run(
        () => Promise.reject(failure),
        () => 0,
      ),
    ).rejects.toBe(failure);
    const [entry] = (await readHistory(historyPath(join(project, 'backups')))).records;
    expect(entry).toMatchObject({ command: 'restore', result: 'failure', exitCode: 1, environment: 'staging' });
    expect(entry.error).toBe('login refused for root with *** at mongodb://root:***@db:27017');
  });

  it('bad input (exit 2) appends nothing, nor does a run whose project cannot be opened, nor a dry run', async () => {
    const project = await makeProject();
    await expect(
      (await recorderIn(project)).run(
        () => Promise.reject(new UsageError('bad flag')),
        () => 0,
      ),
    ).rejects.toThrow();
    await (
      await recorderIn(join(project, 'no-such-project'))
    ).run(
      () => Promise.resolve(0),
      (code) => code,
    );
    const dryRun = new RunRecorder('restore', { project: undefined, signal: new AbortController().signal, warn: () => undefined });
    await dryRun.run(
      () => Promise.resolve(0),
      (code) => code,
    );
    expect((await readHistory(historyPath(join(project, 'backups')))).records).toEqual([]);
  });

  it('after an interrupt the record holds the interrupt, not the failure it caused', async () => {
    const project = await makeProject();
    const controller = new AbortController();
    const recorder = await recorderIn(project, [], controller.signal);
    controller.abort(new AbortedError('interrupted by SIGINT; partial files were removed.', { signal: 'SIGINT' }));
    await expect(
      recorder.run(
        () => Promise.reject(new Error('socket closed')),
        () => 0,
      ),
    ).rejects.toThrow('socket closed');
    const [entry] = (await readHistory(historyPath(join(project, 'backups')))).records;
    expect(entry).toMatchObject({ result: 'failure', exitCode: 1, error: 'interrupted by SIGINT; partial files were removed.' });
  });

  it('a history that cannot be written is one warning, and the run keeps its result', async () => {
    const project = await makeProject();
    // backups/ is a file: the history cannot be created under it.
    await writeFile(join(project, 'backups'), 'not a folder');
    const warnings: string[] = [];
    expect(
      await (
        await recorderIn(project, warnings)
      ).run(
        () => Promise.resolve(0),
        (code) => code,
      ),
    ).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^the history of this run could not be written to .*\.orkestra-backup-history\.jsonl \(.+\); the run itself is not affected\.$/,
    );
  });

  it("times each component's own work from its events, and keeps a component that failed with its time", async () => {
    const project = await makeProject();
    await mkdir(join(project, 'backups'));
    const recorder = new RunRecorder('backup', {
      project: () => openProject({ projectDir: project, processEnv: {} }),
      signal: new AbortController().signal,
      warn: () => undefined,
    });
    const seen: string[] = [];
    const onEvent = recorder.listen((event) => seen.push(event.type));
    await recorder
      .run(
        async () => {
          onEvent({ type: 'component-start', component: 'redis', phase: 'backup' });
          onEvent({ type: 'component-done', component: 'redis', phase: 'backup', bytes: 10, elapsedMs: 1500, summary: '3 keys' });
          onEvent({ type: 'component-start', component: 'mongodb', phase: 'check' });
          onEvent({ type: 'component-start', component: 'secrets', phase: 'backup' });
          onEvent({ type: 'component-failed', component: 'secrets', phase: 'backup', message: 'cannot read docker/.env' });
          return Promise.reject(new RuntimeError('cannot read docker/.env'));
        },
        () => 0,
      )
      .catch(() => undefined);
    expect(seen).toHaveLength(5);
    const [entry] = (await readHistory(historyPath(join(project, 'backups')))).records;
    expect(entry.components).toEqual({
      redis: { seconds: 1.5, ok: true, summary: '3 keys' },
      secrets: { seconds: expect.any(Number), ok: false, summary: 'cannot read docker/.env' },
    });
  });
});
