/**
 * Configurations built from the settings file, the environment (which always wins) and changes sent by the admin
 * page, the same way `loadEffectiveConfig` builds the one in force — so "Check without saving" checks exactly what
 * a restart after "Save" would run.
 */
import type { Config } from '../config/config.js';
import { loadConfig, type GeneratedSecrets } from '../config/loadConfig.js';
import { SETTING_KEYS, settingKey } from '../config/settingsFile.js';

/** Environment variables (the ones the bridge was started with). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Whether the environment sets a setting (for a secret also through `<KEY>_FILE`): such a setting is locked. */
export function isLockedByEnv(env: Env, key: string): boolean {
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '';
  return set(key) || (settingKey(key)?.secret === true && set(`${key}_FILE`));
}

/** Changes to apply to the settings file: a value, or null to remove the key. */
export type SettingsUpdates = Record<string, string | null>;

/** What {@link normaliseUpdates} made of the page's `settings`. */
export interface NormalisedUpdates {
  updates: SettingsUpdates;
  /** Unknown keys and values of the wrong type (names only, never values). */
  problems: string[];
  /** Keys the environment sets: not applied (the environment wins), reported back. */
  ignored: string[];
}

/**
 * Turns the page's `settings` object into updates: keys upper-cased and checked against SETTING_KEYS; a secret
 * sent as `""` means unchanged (the page never has its value); any other `""` and `null` remove the key; values
 * are trimmed; keys locked by the environment are left out and listed in `ignored`.
 * @param raw the `settings` member of the request body (undefined = no changes)
 * @param env the bridge's environment
 */
export function normaliseUpdates(raw: unknown, env: Env): NormalisedUpdates {
  const out: NormalisedUpdates = { updates: {}, problems: [], ignored: [] };
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    out.problems.push('settings must be an object of setting names to values');
    return out;
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const def = settingKey(name);
    if (!def) {
      out.problems.push(`${name.slice(0, 64)} is not a setting; known: ${SETTING_KEYS.map((s) => s.key).join(', ')}`);
      continue;
    }
    if (value !== null && typeof value !== 'string') {
      out.problems.push(`${def.key} must be a string, or null to remove it`);
      continue;
    }
    if (isLockedByEnv(env, def.key)) {
      out.ignored.push(def.key);
      continue;
    }
    const v = value === null ? null : value.trim();
    if (v === '' && def.secret) continue; // write-only: an empty field means "keep the stored secret"
    out.updates[def.key] = v === '' ? null : v;
  }
  return out;
}

/**
 * The settings file's values after applying updates (in memory; nothing is written).
 * @param file current settings file values
 * @param updates changes (null removes)
 */
export function applyUpdates(file: Readonly<Record<string, string>>, updates: SettingsUpdates): Record<string, string> {
  const next: Record<string, string> = { ...file };
  for (const [k, v] of Object.entries(updates)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}

/**
 * Loads the configuration that settings file values and the environment give, like `loadEffectiveConfig`: the
 * environment wins (a secret's `<KEY>_FILE` in the environment also hides the file's `<KEY>`). The data folder and
 * the generated secrets are those of the running bridge.
 * @param running the configuration in force
 * @param env the bridge's environment
 * @param settings settings file values
 * @throws ConfigError listing every problem (no values)
 */
export function loadCandidateConfig(running: Config, env: Env, settings: Readonly<Record<string, string>>): Config {
  const merged: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(settings)) if (!isLockedByEnv(env, k)) merged[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') merged[k] = v;
  merged.DATA_DIR = running.dataDir;
  const generated: GeneratedSecrets = { tokenSecret: running.tokens.secret, embeddedPassword: running.embedded.password };
  return loadConfig(merged, generated);
}

/** Whether two configurations are the same in every field (secrets included; compared in process only). */
export function isSameConfig(a: Config, b: Config): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
