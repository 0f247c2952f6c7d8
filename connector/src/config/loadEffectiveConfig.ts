import type { Config } from './config.js';
import { ConfigError, loadConfig, resolveDataDir } from './loadConfig.js';
import { loadOrCreateSecrets } from './generatedSecrets.js';
import { mergeSharedSettings, readSettings, readSharedSettings, settingKey, SHARED_SETTINGS_NAMESPACE, type SharedSettingsStore } from './settingsFile.js';
import { CredentialCipher } from '../users/credentialCipher.js';

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

/**
 * Opens the Redis state store for its shared settings (the CLI's `config set|unset` writes there too).
 * @param redisUrl REDIS_URL
 * @throws whatever connecting throws (Redis not reachable within 3 s)
 */
export async function openSharedSettingsStore(redisUrl: string): Promise<SharedSettingsStore & { close(): Promise<void> }> {
  // Loaded only when used: ioredis is heavy and most installs have no Redis.
  const { createRedisStateStore } = await import('../state/RedisStateStore.js');
  return createRedisStateStore(redisUrl, { connectTimeoutMs: 3000 });
}

/** Prefix of a secret setting's value sealed in the shared store (values without it were written before sealing). */
const SEALED_PREFIX = 'sealed:';

/**
 * The shared store seen through a cipher: secret settings (DOCS_JWT_SECRET, STORAGE_PASSWORD…) are kept in Redis
 * sealed with AES-256-GCM under a key derived (HKDF) from the WOPI token secret — the same {@link CredentialCipher}
 * that seals session credentials, each value bound to its setting's name as additional data — so a Redis dump or a
 * replica holds none of them in clear. Every instance sharing Redis must share WOPI_TOKEN_SECRET anyway (each one
 * verifies the access tokens the others issue), so each can open them. Other namespaces pass through unchanged.
 * A value written before sealing existed is read as it is and sealed at the next save.
 * @param store the state store (Redis)
 * @param tokenSecret `config.tokens.secret`
 * @param onUnreadable told the key of a sealed value this secret cannot open (another WOPI_TOKEN_SECRET sealed it);
 *   the key is then left out of what is read
 */
export function sealedSharedSettings(store: SharedSettingsStore, tokenSecret: string, onUnreadable?: (key: string) => void): SharedSettingsStore {
  const cipher = new CredentialCipher(tokenSecret, 'wopi-bridge shared settings v1');
  const aad = (key: string): string => `shared setting ${key}`;
  // The plain text handed out by `get` → the stored text it came from, so compareAndSet can compare with the latter
  // (sealing is randomised: the same values never seal to the same text twice).
  const storedOf = new Map<string, string>();
  const mapSecrets = (text: string, fn: (key: string, value: string) => string | null): string => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return text; // not ours to fix: readSharedSettings ignores what does not parse
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return text;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parsed)) {
      const def = settingKey(k);
      if (def?.secret !== true || typeof v !== 'string') {
        out[k] = v;
        continue;
      }
      const mapped = fn(def.key, v);
      if (mapped !== null) out[k] = mapped;
    }
    return JSON.stringify(out);
  };
  const open = (stored: string | null): string | null => {
    if (stored === null) return null;
    const plain = mapSecrets(stored, (key, value) => {
      if (!value.startsWith(SEALED_PREFIX)) return value;
      const opened = cipher.open(value.slice(SEALED_PREFIX.length), aad(key));
      if (typeof opened === 'string') return opened;
      onUnreadable?.(key);
      return null;
    });
    storedOf.set(plain, stored);
    if (storedOf.size > 32) storedOf.delete(storedOf.keys().next().value as string);
    return plain;
  };
  const seal = (plain: string | null): string | null =>
    plain === null ? null : mapSecrets(plain, (key, value) => `${SEALED_PREFIX}${cipher.seal(value, aad(key))}`);
  return {
    async get(ns, key) {
      const stored = await store.get(ns, key);
      return ns === SHARED_SETTINGS_NAMESPACE ? open(stored) : stored;
    },
    async compareAndSet(ns, key, expected, next) {
      if (ns !== SHARED_SETTINGS_NAMESPACE) return store.compareAndSet(ns, key, expected, next);
      const res = await store.compareAndSet(ns, key, expected === null ? null : (storedOf.get(expected) ?? expected), seal(next));
      return { ok: res.ok, current: open(res.current) };
    },
  };
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
    const unreadable: string[] = [];
    try {
      const store = await (options.openSharedStore ?? openSharedSettingsStore)(config.redisUrl);
      try {
        shared = await readSharedSettings(sealedSharedSettings(store, config.tokens.secret, (key) => unreadable.push(key)));
      } finally {
        await store.close();
      }
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      sharedProblem = 'the settings shared through Redis could not be read (Redis not reachable); the settings file applies';
    }
    if (shared !== null) {
      settings = mergeSharedSettings(file, shared);
      if (unreadable.length > 0) {
        // Sealed by an instance with another WOPI_TOKEN_SECRET: this machine's own value (if any) is the best left.
        for (const key of unreadable) if (file[key] !== undefined) settings[key] = file[key];
        sharedProblem =
          `the shared ${unreadable.join(', ')} cannot be decrypted with this instance's WOPI_TOKEN_SECRET (every instance ` +
          'sharing Redis needs the same one); the settings file\'s value applies where it has one';
      }
      config = build(settings);
    }
  }
  const lockedByEnv = Object.keys(settings).filter(setInEnv);
  return { config, settings, lockedByEnv, shared, sharedProblem };
}
