import { openProject, type Project } from '../model/project.js';
import type { CommonArgs } from './args.js';

/**
 * Settings for commands that may run outside a project (verify, inspect, list, prune): those of
 * the project in the current folder when there is one (flags, docker/.env, environment), else
 * the flags and the environment alone.
 */
export async function commandSettings(common: CommonArgs): Promise<(key: string) => string | undefined> {
  const project = await commandProject(common);
  if (project) return (key) => project.setting(key);
  return flagsAndEnvironment(common);
}

/** Settings outside a project: the flags, then the environment. */
export function flagsAndEnvironment(common: CommonArgs): (key: string) => string | undefined {
  return (key) => (Object.hasOwn(common.settings, key) ? common.settings[key] : process.env[key]) || undefined;
}

/** The project in the current folder (or --project-dir, which must be one); undefined when the current folder is none. */
export async function commandProject(common: CommonArgs): Promise<Project | undefined> {
  try {
    return await openProject({ projectDir: common.projectDir, environment: common.env, settings: common.settings });
  } catch (error) {
    if (common.projectDir !== undefined) throw error;
    return undefined;
  }
}
