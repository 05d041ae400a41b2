import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/app/runRecorder.js';
import { AbortedError, RuntimeError, UsageError } from '../../src/base/errors.js';
import { historyPath, readHistory } from '../../src/core/history/historyFile.js';
import { openProject } from '../../src/model/project.js';
import type { Manifest } from '../../src/archive/manifest.js';
import type { BackupOutcome } from '../../src/core/backup/index.js';
import type { ArchiveShape } from '../../src/model/shape.js';
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

  it("a backup's record copies both archives, each component's bytes from its manifest's index, the merged shape, the anomalies, baseline and acceptance", async () => {
    const project = await makeProject();
    const recorder = new RunRecorder('backup', {
      project: () => openProject({ projectDir: project, processEnv: {} }),
      signal: new AbortController().signal,
      warn: () => undefined,
    });
    const index = (bytes: number) => ({ files: 1, bytes, size: 100, sha256: 'a'.repeat(64) });
    const manifest = (components: string[], split: 'data' | 'secrets', shape: ArchiveShape): Manifest => ({
      schema: 'orkestra-backup/v1.1',
      createdAt: '2026-12-05T03:00:00Z',
      environment: 'local',
      host: 'test',
      components,
      backupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
      split,
      index: Object.fromEntries(components.map((name) => [name, index(name.length * 1000)])),
      shape,
    });
    const redisShape = { items: 'keys', group: 'database', groups: { '0': { items: 457 } } };
    const secretsShape = { items: 'files', group: 'folder', groups: { keys: { items: 2 } }, names: ['.env', 'keys/jwt.pem'] };
    const outcome: BackupOutcome = {
      archivePath: join(project, 'backups/data.tar.gz'),
      archiveBytes: 5000,
      manifest: manifest(['redis'], 'data', { components: { redis: redisShape }, keyNames: ['OAUTH_TOKEN_ENCRYPTION_KEY'] }),
      secrets: {
        archivePath: join(project, 'backups/data-secrets.tar.gz'),
        archiveBytes: 900,
        manifest: manifest(['secrets'], 'secrets', { components: { secrets: secretsShape } }),
      },
      skipped: [],
      elapsedMs: 1200,
      anomalies: [{ component: 'redis', kind: 'shrunk', message: 'redis: database 0 lost 62 % of its keys (1,204 → 457)' }],
      baseline: join(project, 'backups/before.tar.gz'),
      accepted: true,
    };
    await recorder.run(
      () => Promise.resolve(recorder.backedUp(outcome)),
      () => 0,
    );
    const [entry] = (await readHistory(historyPath(join(project, 'backups')))).records;
    expect(entry.archives).toEqual([
      { location: outcome.archivePath, bytes: 5000, backupId: '0f8fad5b-d9cb-469f-a165-70867728950e', split: 'data' },
      { location: outcome.secrets!.archivePath, bytes: 900, backupId: '0f8fad5b-d9cb-469f-a165-70867728950e', split: 'secrets' },
    ]);
    expect(entry.components).toEqual({ redis: { bytes: 5000 }, secrets: { bytes: 7000 } });
    expect(entry.shape).toEqual({ components: { secrets: secretsShape, redis: redisShape }, keyNames: ['OAUTH_TOKEN_ENCRYPTION_KEY'] });
    expect(entry).toMatchObject({ anomalies: outcome.anomalies, baseline: outcome.baseline, accepted: true });
  });
});
