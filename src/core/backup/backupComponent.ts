import { componentPath } from '../../archive/paths.js';
import type { ArchiveWriter } from '../../archive/writer.js';
import { ComponentProgress } from '../../model/progress.js';
import type { BackupResult, Component, ComponentSink } from '../component.js';
import type { Session } from '../session.js';
import { reasonOf } from './components.js';

/** One component into the archive: its files under its own folder, its progress, its details and shape for the manifest. */
export async function backupComponent(
  session: Session,
  component: Component,
  writer: ArchiveWriter,
): Promise<Pick<BackupResult, 'details' | 'shape'>> {
  const progress = new ComponentProgress(component.name, 'backup', session.onEvent);
  const onBytes = (bytes: number) => progress.advance(bytes);
  const sink: ComponentSink = {
    addFile: async (path, size, content, options) => {
      await writer.addFile(componentPath(component.name, path), size, content, { ...options, onBytes });
    },
    addStream: async (path, content, options) => {
      await writer.addStream(componentPath(component.name, path), content, { ...options, onBytes });
    },
    addText: async (path, text) => {
      await writer.addText(componentPath(component.name, path), text);
    },
  };
  try {
    const result = await component.backup({ ...session, sink, progress });
    progress.done(result.summary);
    return { details: result.details ?? {}, shape: result.shape };
  } catch (error) {
    progress.failed(reasonOf(error));
    throw error;
  }
}
