import type { Keyring } from '../age/header.js';
import { UsageError } from '../base/errors.js';
import { SECRETS } from '../archive/archiveNames.js';
import type { Component } from './component.js';
import {
  openRestoreArchive,
  previewRestore,
  componentsToRestore,
  refuseNothingSelected,
  type OpenedArchive,
  type RestorePreview,
} from './restore.js';
import type { Session } from './session.js';
import { narrowToSelection, type SelectorValues } from './restoreSelection.js';

/** The two archives of a split backup (--split-secrets), opened and found to belong together. */
export interface ArchivePair {
  readonly data: OpenedArchive;
  readonly secrets: OpenedArchive;
}

/**
 * `restore <data> --secrets <secrets>`: opens the secrets archive beside the data archive and
 * refuses, before anything is read further, a pair that is not one: the archives swapped, a
 * data archive given as secrets, or two backup runs (unless `allowMismatch`).
 */
export async function openSecretsArchive(
  file: string,
  data: OpenedArchive,
  session: Session,
  options: { keyring?: Keyring; allowMismatch: boolean },
): Promise<ArchivePair> {
  if (data.manifest.split === 'secrets') {
    throw new UsageError(`${data.name} is the secrets archive of a split backup.`, {
      hint: 'Give the data archive first and this one with --secrets: restore <data archive> --secrets <secrets archive>. Nothing was touched.',
    });
  }
  const secrets = await openRestoreArchive(file, session, options.keyring);
  try {
    const { manifest } = secrets;
    if (manifest.split !== 'secrets' || manifest.components.join() !== SECRETS) {
      throw new UsageError(
        `${secrets.name} is not the secrets archive of a split backup (it holds ${manifest.components.join(', ') || 'nothing'}).`,
        {
          hint: 'Pass the -secrets archive that backup --split-secrets wrote. Nothing was touched.',
        },
      );
    }
    const [dataId, secretsId] = [data.manifest.backupId, manifest.backupId];
    if (!options.allowMismatch && (dataId === undefined || dataId !== secretsId)) {
      throw new UsageError(
        `${secrets.name} is not from the same backup as ${data.name} (backupId ${secretsId ?? 'none'} vs ${dataId ?? 'none'}).`,
        {
          hint: 'Pass the secrets archive of the same run, or --allow-mismatch if you mean to combine two runs. Nothing was touched.',
        },
      );
    }
    return { data, secrets };
  } catch (error) {
    await secrets.location.close();
    throw error;
  }
}

/**
 * The components to restore from the pair: those asked for (each in one of the two), else
 * everything both hold, narrowed by the selectors given. Refused when that is no component at all.
 */
export function selectPairComponents(
  session: Session,
  pair: ArchivePair,
  requested?: string,
  selectors: SelectorValues = {},
): { data: Component[]; secrets: Component[] } {
  const candidates = pairSelection(session, pair, requested);
  const chosen = narrowToSelection([...candidates.data, ...candidates.secrets], selectors, requested);
  const from = (list: readonly Component[]) => chosen.filter((component) => list.some((other) => other.name === component.name));
  const selection = { data: from(candidates.data), secrets: from(candidates.secrets) };
  refuseNothingSelected(session, pair.data, selection.data.length + selection.secrets.length, requested);
  return selection;
}

function pairSelection(session: Session, pair: ArchivePair, requested: string | undefined): { data: Component[]; secrets: Component[] } {
  if (requested === undefined) {
    const data = componentsToRestore(session, pair.data).filter((component) => component.name !== SECRETS);
    return { data, secrets: componentsToRestore(session, pair.secrets) };
  }
  const names = requested.split(',').map((name) => name.trim());
  const secretsWanted = names.includes(SECRETS);
  const dataNames = names.filter((name) => name !== SECRETS);
  return {
    data: dataNames.length > 0 ? componentsToRestore(session, pair.data, dataNames.join(',')) : [],
    secrets: secretsWanted ? componentsToRestore(session, pair.secrets, SECRETS) : [],
  };
}

/**
 * Both archives checked whole and every component planned, before the first change: one
 * preview whose plans say which archive each component comes from. MongoDB's key-drift check
 * knows the secrets come back too.
 */
export async function previewPairRestore(
  session: Session,
  pair: ArchivePair,
  components: { data: Component[]; secrets: Component[] },
): Promise<RestorePreview> {
  const data = await previewRestore(session, pair.data, components.data, components.secrets);
  if (components.secrets.length === 0) return data;
  const secrets = await previewRestore(session, pair.secrets, components.secrets, components.data);
  return { archive: data.archive, plans: [...data.plans, ...secrets.plans.map((plan) => ({ ...plan, from: secrets.archive }))] };
}
