import type { Config } from './config.js';
import { loadConfig, resolveDataDir } from './loadConfig.js';
import { loadOrCreateSecrets } from './generatedSecrets.js';
import { readSettings } from './settingsFile.js';

/** The configuration in force, with where each setting came from. */
export interface EffectiveConfig {
  config: Config;
  /** Values from the settings file. */
  settings: Record<string, string>;
  /** Settings keys the environment sets: they win over the file and show as locked. */
  lockedByEnv: string[];
}

/**
 * Loads the configuration the server and the CLI share: generated secrets, the settings file in the data folder,
 * and the environment, which wins over the file.
 * @throws ConfigError listing every problem
 */
export async function loadEffectiveConfig(env: Record<string, string | undefined>): Promise<EffectiveConfig> {
  const dataDir = resolveDataDir(env);
  const secrets = await loadOrCreateSecrets(dataDir);
  const settings = await readSettings(dataDir);
  const setInEnv = (k: string): boolean => [k, `${k}_FILE`].some((name) => (env[name]?.trim() ?? '') !== '');
  const lockedByEnv = Object.keys(settings).filter(setInEnv);
  // A setting the environment gives (as NAME or NAME_FILE) is dropped from the file's values, so they never clash.
  const merged: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(settings)) if (!setInEnv(k)) merged[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') merged[k] = v;
  return { config: loadConfig(merged, secrets), settings, lockedByEnv };
}
