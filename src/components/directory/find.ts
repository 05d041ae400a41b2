import type { ExamineContext, FoundItem, NameMatcher } from '../../core/component.js';
import { damaged, directoryDetails, splitRoot } from './content.js';

/**
 * The files whose path inside their folder matches, or whose path with the folder before it does
 * (as `--files` takes them when the glob matched several folders); from the archive's index alone.
 */
export async function* findDirectoryFiles(name: string, { source }: ExamineContext, matches: NameMatcher): AsyncGenerator<FoundItem> {
  const { roots } = directoryDetails(source, name);
  for await (const file of source.files()) {
    const [index, path] = splitRoot(file.path);
    const root = roots[index]?.path;
    if (root === undefined) throw damaged(source, `${name}/${file.path} is not inside one of its folders`);
    if (matches(path) || matches(`${root}/${path}`))
      yield { group: { kind: 'folder', name: root }, kind: 'file', name: path, bytes: file.size };
  }
}

/** The folders of the component, as the manifest records them. */
export function directoryGroups(name: string, { source }: ExamineContext): Promise<FoundItem['group'][]> {
  return Promise.resolve(directoryDetails(source, name).roots.map((root) => ({ kind: 'folder', name: root.path })));
}
