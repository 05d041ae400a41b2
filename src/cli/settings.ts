import { openProject } from '../model/project.js';
import type { CommonArgs } from './args.js';

/**
 * Settings for commands that may run outside a project (verify, inspect, list, prune): those of
 * the project in the current folder when there is one (flags, docker/.env, environment), else
 * the flags and the environment alone.
 */
export async function commandSettings(common: CommonArgs): Promise<(key: string) => string | undefined> {
  try {
    const project = await openProject({ projectDir: common.projectDir, environment: common.env, settings: common.settings });
    return (key) => project.setting(key);
  } catch (error) {
    if (common.projectDir !== undefined) throw error;
    return (key) => (Object.hasOwn(common.settings, key) ? common.settings[key] : process.env[key]) || undefined;
  }
}
