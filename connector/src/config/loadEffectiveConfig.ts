import type { Config } from './config.js';
import { ConfigError, loadConfig, resolveDataDir } from './loadConfig.js';
import { loadOrCreateSecrets } from './generatedSecrets.js';
import { mergeSharedSettings, readSettings, readSharedSettings, type SharedSettingsStore } from './settingsFile.js';

/** The configuration in force, with where each setting came from. */
export interface EffectiveConfig {
  config: Config;
  /** Values of the settings file, replaced by the shared ones (Redis) when any instance saved some. */
  settings: Record<string, string>;
  /** Settings keys the environment sets: they win over the file and show as locked. */
  lockedByEnv: string[];
  /** The settings shared through Redis (null: no REDIS_URL, none saved yet, or Redis not reachable). */
  shared: Record<string, string> | null;
  /** Why the shared settings could not be read (Redis down at start: the file's values apply); null = fine. */
  sharedProblem: string | null;
}

/** Options of {@link loadEffectiveConfig}. */
export interface LoadEffectiveOptions {
  /** Opens the shared store for a REDIS_URL (tests); default the Redis state store, with a short connect timeout. */
  openSharedStore?: (redisUrl: string) => Promise<SharedSettingsStore & { close(): Promise<void> }>;
}

async function openRedis(redisUrl: string): Promise<SharedSettingsStore & { close(): Promise<void> }> {
  // Loaded only when used: ioredis is heavy and most installs have no Redis.
  const { createRedisStateStore } = await import('../state/RedisStateStore.js');
  return createRedisStateStore(redisUrl, { connectTimeoutMs: 3000 });
}

/**
 * Loads the configuration the server and the CLI share: generated secrets, the settings file in the data folder —
 * or, with REDIS_URL, the settings the admin page saved to Redis for every instance — and the environment, which
 * wins over both.
 * @throws ConfigError listing every problem
 */
export async function loadEffectiveConfig(env: Record<string, string | undefined>, options: LoadEffectiveOptions = {}): Promise<EffectiveConfig> {
  const dataDir = resolveDataDir(env);
  const secrets = await loadOrCreateSecrets(dataDir);
  const file = await readSettings(dataDir);
  const setInEnv = (k: string): boolean => [k, `${k}_FILE`].some((name) => (env[name]?.trim() ?? '') !== '');
  const build = (settings: Record<string, string>): Config => {
    // A setting the environment gives (as NAME or NAME_FILE) is dropped from the file's values, so they never clash.
    const merged: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(settings)) if (!setInEnv(k)) merged[k] = v;
    for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') merged[k] = v;
    return loadConfig(merged, secrets);
  };
  let config = build(file);
  let settings = file;
  let shared: Record<string, string> | null = null;
  let sharedProblem: string | null = null;
  if (config.redisUrl !== null) {
    try {
      const store = await (options.openSharedStore ?? openRedis)(config.redisUrl);
      try {
        shared = await readSharedSettings(store);
      } finally {
        await store.close();
      }
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      sharedProblem = 'the settings shared through Redis could not be read (Redis not reachable); the settings file applies';
    }
    if (shared !== null) {
      settings = mergeSharedSettings(file, shared);
      config = build(settings);
    }
  }
  const lockedByEnv = Object.keys(settings).filter(setInEnv);
  return { config, settings, lockedByEnv, shared, sharedProblem };
}
