import type { ExamineContext, FoundItem, NameMatcher } from '../../core/component.js';

/** The secret files (paths inside docker/) whose path matches, from the archive's index alone. */
export async function* findSecretFiles({ source }: ExamineContext, matches: NameMatcher): AsyncGenerator<FoundItem> {
  for await (const file of source.files()) {
    if (matches(file.path)) yield { group: SECRETS_FOLDER, kind: 'file', name: file.path, bytes: file.size };
  }
}

/** The one folder secrets are in. */
const SECRETS_FOLDER = { kind: 'folder', name: 'docker' } as const;

export function secretGroups(): Promise<FoundItem['group'][]> {
  return Promise.resolve([SECRETS_FOLDER]);
}
