import { CANARY_KINDS } from '../components/index.js';
import { parseProjectConfigText, PROJECT_CONFIG_FILE, readProjectConfig, type ProjectConfig } from '../core/projectConfig.js';

/** Reads the project's orkestra-backup.json, with the canaries of the built-in components. */
export function loadProjectConfig(projectDir: string): Promise<ProjectConfig> {
  return readProjectConfig(projectDir, CANARY_KINDS);
}

export function parseProjectConfig(text: string, path: string = PROJECT_CONFIG_FILE): ProjectConfig {
  return parseProjectConfigText(text, path, CANARY_KINDS);
}
