import { mkdir, rename } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { utcStamp } from './timestamps.js';

/**
 * The folder where a restore keeps what it replaces (`docker/.pre-restore-<UTC stamp>/`), so
 * nothing is lost. Created on first use; a second restore in the same second gets `-2`.
 */
export class MoveAsideFolder {
  private folder: string | undefined;

  constructor(
    private readonly root: string,
    private readonly startedAt: Date,
  ) {}

  /** Where the folder is or will be, for messages before anything moved. */
  get displayPath(): string {
    return this.folder ?? join(this.root, `.pre-restore-${utcStamp(this.startedAt)}`);
  }

  /** A path inside the folder (its parent folders created, private), for copies that are not moves. */
  async pathFor(...segments: string[]): Promise<string> {
    const destination = join(await this.ensure(), ...segments);
    await mkdir(dirname(destination), { recursive: true, mode: 0o700 });
    return destination;
  }

  /** Moves `target` (a path under root) into the folder, keeping its relative path. Returns where it went. */
  async keep(target: string): Promise<string> {
    const folder = await this.ensure();
    const destination = join(folder, relative(this.root, target));
    await mkdir(dirname(destination), { recursive: true, mode: 0o700 });
    await rename(target, destination);
    return destination;
  }

  private async ensure(): Promise<string> {
    if (this.folder) return this.folder;
    const base = join(this.root, `.pre-restore-${utcStamp(this.startedAt)}`);
    for (let attempt = 1; ; attempt += 1) {
      const candidate = attempt === 1 ? base : `${base}-${attempt}`;
      try {
        await mkdir(candidate, { mode: 0o700 });
        this.folder = candidate;
        return candidate;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
      }
    }
  }
}
