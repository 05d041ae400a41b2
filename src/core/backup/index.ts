/**
 * A backup, step by step: plan (which components, where each archive goes, how it is sealed and
 * compressed — all checked before anything is written), then write each archive
 * (writeArchive.ts: every component in turn, the manifest, the read-back), the secrets archive of
 * a split backup first.
 */
import { checkCompressionName, SECRETS } from '../../archive/archiveNames.js';
import { archiveExtension, resolveCompression } from '../../archive/compression.js';
import { randomUUID } from 'node:crypto';
import type { Component } from '../component.js';
import { backupSealing, SECRETS_SEALING } from '../archiveKeys.js';
import type { Session } from '../session.js';
import { chooseComponents, componentStatuses } from './components.js';
import type { BackupOptions, BackupOutcome, BackupPlan } from './plan.js';
import { checkArchiveExtension, checkSplit, planSecretsArchive, refusePlaintextSecrets, resolveTarget, targetText } from './targets.js';
import { previousSizes } from './previousSizes.js';
import { removeArchive, writeArchive } from './writeArchive.js';
import { compareWithBaseline } from '../health/checkBackup.js';
import { DEFAULT_HEALTH_SETTINGS } from '../../model/health.js';

export { componentStatuses, type ComponentStatus } from './components.js';
export type { BackupOptions, BackupOutcome, BackupPlan, WrittenArchive } from './plan.js';

/**
 * Decides what a backup will capture and where, before anything is written. A component named
 * explicitly must be available; with `all`, unavailable ones are skipped and reported.
 */
export async function planBackup(
  session: Session,
  selection: { all: true } | { all: false; components: readonly Component[] },
  output?: string,
  options: BackupOptions = {},
): Promise<BackupPlan> {
  // A split that cannot be is bad input: said before any component is asked about.
  if (options.splitSecrets && !selection.all) checkSplit(selection.components, output, options.splitSecrets.output);
  const { components, skipped, transports } = chooseComponents(selection, await componentStatuses(session));
  const setting = (key: string) => session.project.setting(key);
  const sealing = await backupSealing(setting);
  const split = options.splitSecrets;
  // With "all", what is split is known only now (an explicit list was checked above).
  if (split && selection.all) checkSplit(components, output, split.output);
  checkArchiveExtension(output, sealing !== undefined);
  const compression = resolveCompression(options.compression, session.services.tuning.gzipLevel);
  const extension = archiveExtension(compression.codec);
  checkCompressionName(output, compression.codec);
  checkCompressionName(split?.output, compression.codec, '--secrets-output');
  const target = await resolveTarget(session, output, options.standardOutput, sealing !== undefined, extension);
  const secrets =
    split &&
    (await planSecretsArchive(session, target, split.output, (await backupSealing(setting, SECRETS_SEALING)) ?? sealing, extension));
  const holdsSecrets = !split && components.some((component) => component.name === SECRETS);
  if (holdsSecrets) refusePlaintextSecrets(session, target, sealing, '--output');
  if (secrets) refusePlaintextSecrets(session, secrets.target, secrets.sealing, '--secrets-output');
  const health = options.health ?? DEFAULT_HEALTH_SETTINGS;
  const acceptAnomaly = options.acceptAnomaly ?? false;
  return { components, skipped, transports, target, outputPath: targetText(target), sealing, secrets, compression, health, acceptAnomaly };
}

/**
 * Writes the plan's archive (or the two of a split backup), then compares it with its baseline:
 * its anomalies are in the outcome, the archive is kept whatever they are.
 */
export async function runBackup(session: Session, plan: BackupPlan): Promise<BackupOutcome> {
  const outcome = await writeBackup(session, plan);
  session.onEvent({ type: 'step', message: 'comparing the backup with its baseline (anomaly checks)' });
  const { anomalies, baseline } = await compareWithBaseline(session, outcome, plan.health);
  return { ...outcome, anomalies, baseline, ...(plan.acceptAnomaly ? { accepted: true } : {}) };
}

/**
 * Writes the plan's archive, or with --split-secrets its two archives under one backupId: the
 * secrets archive first (small), then the data archive; when the data archive fails the secrets
 * archive is removed again, so a split backup leaves both archives or neither.
 */
async function writeBackup(session: Session, plan: BackupPlan): Promise<BackupOutcome> {
  const started = new Date();
  const run = { started, backupId: randomUUID(), compression: plan.compression };
  const previous = await previousSizes(session, plan.target);
  const work = plan.components.map((component) => ({
    component: component.name,
    phase: 'backup' as const,
    bytes: previous.get(component.name),
  }));
  session.onEvent({ type: 'work-planned', work });
  if (!plan.secrets) {
    const written = await writeArchive(session, plan.components, plan, run);
    return { ...written, skipped: plan.skipped, elapsedMs: Date.now() - started.getTime() };
  }
  const secretsComponents = plan.components.filter((component) => component.name === SECRETS);
  const dataComponents = plan.components.filter((component) => component.name !== SECRETS);
  const secrets = await writeArchive(session, secretsComponents, plan.secrets, { ...run, split: 'secrets' });
  try {
    const data = await writeArchive(session, dataComponents, plan, { ...run, split: 'data' });
    return { ...data, skipped: plan.skipped, elapsedMs: Date.now() - started.getTime(), secrets };
  } catch (error) {
    await removeArchive(session, secrets.archivePath).catch(() => undefined);
    throw error;
  }
}
